# The two commands of the README. Both install what is missing first (scripts/setup is idempotent).
.PHONY: chat test setup bench eval screenshots

chat:
	scripts/setup
	.venv/bin/python app.py

test:
	scripts/setup --dev
	.venv/bin/python -m pytest -ra

eval:
	scripts/setup
	.venv/bin/rag eval

bench:
	scripts/setup --dev
	.venv/bin/python bench/answer_speed.py
	.venv/bin/python bench/bench.py
	.venv/bin/python bench/desk.py

# docs/articles.png: the Articles tab after an upload (real models, a temporary corpus copy);
# docs/chat.png: a real answer in the chat (the browser test writes it only when told to, as here).
screenshots:
	scripts/setup --dev
	.venv/bin/python scripts/screenshot_articles.py
	RAG_REAL=1 RAG_SCREENSHOT=docs/chat.png .venv/bin/python -m pytest -q -m browser tests/test_browser.py -k test_answer_streams_in
