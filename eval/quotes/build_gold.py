"""Regenerate eval/quotes/{five,second}/gold.jsonl from hand-written anchors.

gold.jsonl is the reference; this script only saves retyping. Each entry below was written by reading the cleaned
article (rag.corpus.load_corpus -> Document.text): (doc, speaker, kind, how, fragment[, end_fragment[, note]]).
`fragment` is a unique piece of the sentence holding the attributed words; the entry's "sentence" is the whole
sentence around it, cut from Document.text, or, with `end_fragment`, the sentences from the one holding
`fragment` to the one holding `end_fragment` (a quotation that runs over several sentences).
Run from the repository root:  .venv/bin/python eval/quotes/build_gold.py
Then check:                    .venv/bin/python eval/quotes/check_gold.py
"""
import json
import re
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
warnings.simplefilter("ignore")
sys.path.insert(0, str(ROOT))
from rag.corpus import load_corpus  # noqa: E402

ABBR = {"U.S", "U.N", "Sen", "P.J", "Mr", "Mrs", "Ms", "Dr", "St", "Jr", "Inc", "Feb", "Jan", "Aug", "Sept", "Oct",
        "Nov", "Dec", "Ala", "No", "Gov", "Rep", "Lt", "Gen", "Mt", "vs"}


def boundaries(text):
    """Sentence spans (start, end) of text: paragraphs split at blank lines, sentences at . ! ? (+ closing quotes)
    followed by space and a capital or an opening quote, unless the word before is an abbreviation or an initial."""
    spans = []
    for m in re.finditer(r"[^\n]+", text):
        p0, para = m.start(), m.group()
        start = 0
        for b in re.finditer(r"[.!?]+[\"”’']*(?=\s+[\"“‘(\[]?[A-Z0-9])", para):
            before = para[:b.start()]
            word = re.search(r"([\w.]*)$", before).group(1)
            initial = re.fullmatch(r"[A-Z]", word) or re.fullmatch(r"(?:[A-Z]\.)+[A-Z]", word)  # "P.", "P.J"
            if b.group().startswith(".") and (word in ABBR or initial):
                continue
            end = b.end()
            spans.append((p0 + start, p0 + end))
            start = end + len(re.match(r"\s*", para[end:]).group())
        spans.append((p0 + start, p0 + len(para)))
    return spans


def unit(text, spans, frag, endfrag=None):
    i = text.find(frag)
    assert i >= 0, f"fragment not found: {frag!r}"
    assert text.find(frag, i + 1) < 0, f"fragment not unique: {frag!r}"
    s = next(a for a, b in spans if a <= i < b)
    if endfrag:
        j = text.find(endfrag, i)
        assert j >= 0, f"end fragment not found after start: {endfrag!r}"
        j = j + len(endfrag) - 1
    else:
        j = i + len(frag) - 1
    e = next(b for a, b in spans if a <= j < b)
    return text[s:e]


def build(corpus, items, out, ids):
    docs = {d.doc_id: d for d in load_corpus(corpus)}
    rows = []
    for it in items:
        key, speaker, kind, how, frag = it[:5]
        endfrag = it[5] if len(it) > 5 else None
        note = it[6] if len(it) > 6 else None
        doc = docs[ids.get(key, key)]
        sent = unit(doc.text, boundaries(doc.text), frag, endfrag)
        row = {"doc": doc.doc_id, "speaker": speaker, "sentence": sent, "kind": kind, "how": how}
        if note:
            row["note"] = note
        rows.append(row)
    with open(out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return rows


P, O = "person", "organisation"
D, R, PR = "direct", "reported", "pronoun"

IDS = {"000": "000_d23a82ec91eb8c2b", "001": "001_899089616a540f22", "002": "002_0826091b66aa6d04",
       "003": "003_61459b7c16ee4894", "004": "004_06e9b1b3325c4747"}
FIVE = [
    # 000: Xi says China ready to work with Russia to 'safeguard the world order'
    ("000", "Xi Jinping", P, R, "increasingly looking to shape the world order"),
    ("000", "Xi Jinping", P, D, "In a troubled world, China is ready"),
    ("000", "Biden administration", O, R, "the Biden administration said on Monday"),
    ("000", "Pentagon", O, D, "The Pentagon views China as its",  None,
     "borderline: the Pentagon 'views' and 'describes' (its strategy documents), quoting the phrase 'pacing challenge'"),
    ("000", "John Kirby", P, D, "This is a relationship that has been burgeoning", "John Kirby told reporters on Monday"),
    ("000", "John Kirby", P, D, "They are both countries that chafe", "they’d like to challenge it", 
     "continuation: a second quotation in the same paragraph, after 'John Kirby told reporters on Monday'"),
    ("000", "John Kirby", P, D, "Xi sees Putin as a"),
    ("000", "John Kirby", P, PR, "he added, citing the AUKUS deal"),
    # 001: Xi and Mishustin in Beijing
    ("001", "Xi Jinping", P, R, "President Xi Jinping called on Russia"),
    ("001", "Xi Jinping", P, D, "Xi told Prime Minister Mikhail Mishustin"),
    ("001", "Xi Jinping", P, R, "The Chinese leader named the United Nations", None,
     "speaker given by the epithet 'The Chinese leader'"),
    ("001", "Mikhail Mishustin", P, D, "The Russian leader echoed Xi’s sentiments", None,
     "speaker given by the epithet 'The Russian leader': Prime Minister Mishustin (Putin is not in this article)"),
    ("001", "Mikhail Mishustin", P, D, "told China’s Premier Li Qiang that relations", None,
     "speaker given by the epithet 'the Russian leader': Prime Minister Mishustin"),
    ("001", "Mikhail Mishustin", P, PR, "They are characterized by mutual respect"),
    ("001", "Mikhail Mishustin", P, D, "Mishustin on Tuesday told a business forum"),
    # 002: Yang Jiechi and the Russian ambassador
    ("002", "Xi Jinping’s government", O, D, "Xi Jinping’s government said China is willing", None,
     "the words are Yang Jiechi's (next paragraph); this sentence names only 'Xi Jinping’s government'"),
    ("002", "Yang Jiechi", P, D, "Beijing’s top diplomat Yang Jiechi reportedly told"),
    ("002", "Yang Jiechi", P, D, "Jiechi said that with Xi and Putin at the helm", None,
     "written 'Jiechi' (his given name) in this sentence"),
    ("002", "Xi Jinping", P, D, "Xi has often reiterated that China supports"),
    # 003: NBC News on Xi's trip to Moscow
    ("003", "Xi Jinping", P, D, "Calling each other “dear friends,”", None,
     "borderline: 'Calling each other \"dear friends\"' is attributed to 'the two leaders' (Xi and Putin)"),
    ("003", "Vladimir Putin", P, D, "Calling each other “dear friends,”", None,
     "borderline: 'Calling each other \"dear friends\"' is attributed to 'the two leaders' (Xi and Putin)"),
    ("003", "Vladimir Putin", P, D, "Putin said he had “carefully studied”"),
    ("003", "Brian Hart", P, D, "Xi Jinping wants to show the world"),
    ("003", "Henry Kissinger", P, D, "Former Secretary of State Henry Kissinger told NBC News"),
    ("003", "Washington", O, D, "Washington has criticized Xi’s trip"),
    ("003", "Russian government", O, PR, "Washington has criticized Xi’s trip", None,
     "borderline: 'which his government denies' (Putin's government) at the end of the sentence"),
    ("003", "Beijing", O, D, "Beijing says the court is using"),
    ("003", "White House", O, R, "The White House urged Xi to use his visit"),
    ("003", "Antony Blinken", P, D, "Secretary of State Antony Blinken said any peace plan"),
    ("003", "Antony Blinken", P, PR, "The world should not be fooled"),
    ("003", "Chinese Foreign Ministry", O, D, "A spokesperson for the Chinese Foreign Ministry countered", None,
     "an unnamed spokesperson speaking for the ministry"),
    ("003", "China", O, R, "China has accused the U.S."),
    ("003", "U.S.", O, R, "China has accused the U.S.", None,
     "borderline: '— which announced Monday an additional $350 million in ... military aid' (an announcement)"),
    ("003", "Beijing", O, R, "Beijing denies U.S. allegations"),
    ("003", "Bonnie Glaser", P, D, "They share a deep and abiding interest"),
    ("003", "Bonnie Glaser", P, PR, "who have met about 40 times since 2010"),
    # 004: Xi-Putin phone call
    ("004", "Xi Jinping", P, R, "Xi Jinping reasserted his country’s support"),
    ("004", "Xi Jinping", P, D, "Xi vowed to support Moscow’s"),
    ("004", "Xi Jinping", P, R, "Xi Jinping reaffirmed China’s support"),
    ("004", "Xi Jinping", P, D, "In a phone call on Wednesday, Xi told Putin"),
    ("004", "Kremlin", O, D, "outlined his fundamental assessments"),
    ("004", "Vladimir Putin", P, R, "outlined his fundamental assessments", None,
     "borderline: the Kremlin reports that Putin 'outlined his fundamental assessments' without their content"),
    ("004", "Kremlin", O, PR, "It added that Xi “noted the legitimacy"),
    ("004", "Xi Jinping", P, R, "It added that Xi “noted the legitimacy", None,
     "Xi's words as the Kremlin readout gives them ('noted the legitimacy ...'); the quoted wording is the Kremlin's"),
    ("004", "China", O, R, "China has declined to condemn Russia’s invasion"),
    ("004", "Xi Jinping", P, PR, "They stated their opposition to any expansion of NATO", None,
     "'They' = Xi and Putin (previous sentence)"),
    ("004", "Vladimir Putin", P, PR, "They stated their opposition to any expansion of NATO", None,
     "'They' = Xi and Putin (previous sentence)"),
    ("004", "Xi Jinping", P, D, "Xi told Putin on Wednesday that China"),
    ("004", "Xi Jinping", P, D, "China is willing to, together with Russia", None,
     "continuation: a second quotation right after 'Xi told Putin on Wednesday ... according to Xinhua.'"),
]

SECOND = [
    # reuters.com.parasite
    ("reuters.com.parasite", "Bong Joon Ho", P, R, "director Bong Joon Ho said backstage"),
    ("reuters.com.parasite", "Bong Joon Ho", P, PR, "Speaking through an interpreter he added", "best ensemble cast of this year"),
    ("reuters.com.parasite", "Joaquin Phoenix", P, D, "I am standing on the shoulders of my favorite actor"),
    ("reuters.com.parasite", "Brad Pitt", P, D, "quipped Pitt of his role"),
    ("reuters.com.parasite", "Brad Pitt", P, PR, "A guy who gets high", "he said to laughter"),
    ("reuters.com.parasite", "Robert De Niro", P, R, "used his speech to take a veiled shot", None,
     "borderline: a speech is reported ('used his speech to take a veiled shot at ... Trump') without its words"),
    ("reuters.com.parasite", "Alex Borstein", P, R, "actress Alex Borstein said the comedy prize"),
    ("reuters.com.parasite", "Phoebe Waller-Bridge", P, D, "This whole thing has been a dream", "Waller-Bridge said"),
    # theguardian.com.academics
    ("theguardian.com.academics", "University and College Union", O, R, "The report by the University and College Union claims", None,
     "borderline: the speaker is the union's report ('The report by the University and College Union claims')"),
    ("theguardian.com.academics", "University and College Union", O, PR, "It calls on the Office for Students", None,
     "borderline: 'It' = the union's report"),
    ("theguardian.com.academics", "Chi Onwurah", P, R, "Chi Onwurah, the Labour MP for Newcastle Central"),
    ("theguardian.com.academics", "Chi Onwurah", P, D, "Reliance on precarious, low-paid staff"),
    ("theguardian.com.academics", "Jo Grady", P, R, "Jo Grady, the UCU general secretary, said"),
    ("theguardian.com.academics", "Jo Grady", P, D, "We need to have an honest conversation", "Grady said"),
    ("theguardian.com.academics", "Universities and Colleges Employers’ Association", O, R,
     "But a spokesperson for the Universities and Colleges Employers", None,
     "an unnamed spokesperson speaking for UCEA"),
    ("theguardian.com.academics", "Universities and Colleges Employers’ Association", O, PR,
     "UCEA has over recent years worked with UCU", None, "'he' = the UCEA spokesperson"),
    ("theguardian.com.academics", "Universities and Colleges Employers’ Association", O, D,
     "Our own analysis demonstrates", "between 2011-12 and 2017-18.", 
     "continuation: the UCEA spokesperson's quotation goes on in a new paragraph"),
    ("theguardian.com.academics", "Universities and Colleges Employers’ Association", O, D,
     "The employment arrangements within autonomous universities", "to give of their best for students",
     "continuation: the UCEA spokesperson's quotation goes on in a new paragraph"),
    # nature.com.telescope
    ("nature.com.telescope", "Di Li", P, D, "We do not see any roadblocks"),
    ("nature.com.telescope", "Di Li", P, D, "I feel both excited and relieved", None,
     "continuation: a second quotation right after '... says Di Li, the chief scientist of FAST.'"),
    ("nature.com.telescope", "Zhiqiang Shen", P, R, "observation time will be accessible to researchers"),
    ("nature.com.telescope", "Maura McLaughlin", P, D, "super excited to be able to use the telescope"),
    ("nature.com.telescope", "Di Li", P, R, "makes it uniquely sensitive, says Li"),
    ("nature.com.telescope", "Di Li", P, R, "Many of these bursts were too faint"),
    ("nature.com.telescope", "Yunfan Gerry Zhang", P, D, "This is very exciting news"),
    ("nature.com.telescope", "Yunfan Gerry Zhang", P, PR, "No one knows what causes the mysterious bursts"),
    ("nature.com.telescope", "Laura Spitler", P, D, "impressive sensitivity"),
    ("nature.com.telescope", "Maura McLaughlin", P, R, "FAST will also boost the efforts of an international collaboration"),
    ("nature.com.telescope", "Maura McLaughlin", P, R, "By the 2030s, FAST should have racked up"),
    ("nature.com.telescope", "Maura McLaughlin", P, PR, "is really going to shine"),
    ("nature.com.telescope", "Di Li", P, R, "Li says that he is particularly excited"),
    ("nature.com.telescope", "Di Li", P, R, "No exoplanets have yet been conclusively detected"),
    ("nature.com.telescope", "Di Li", P, PR, "improve FAST’s spatial resolution by 100 times, he says", None,
     "'he' = Li (the previous sentence names 'Li’s team')"),
    ("nature.com.telescope", "Di Li", P, PR, "A successful review will definitely help", None,
     "'he' = Li, the last person named (two sentences earlier: 'Li hopes ...', 'He expects ...')"),
    # dw.com.colonial
    ("dw.com.colonial", "Tahir Della", P, D, "Migration is now being seen in connection"),
    ("dw.com.colonial", "Tahir Della", P, D, "The former colony countries never really became independent", "led to consequences like migration",
     "continuation: a second quotation right after '... ISD spokesman Tahir Della told DW.'"),
    ("dw.com.colonial", "Bruce Gilley", P, R, "argued that the German Reich was more benevolent"),
    ("dw.com.colonial", "Tahir Della", P, D, "This shows that the political right is trying"),
    ("dw.com.colonial", "Tahir Della", P, D, "When people say we need a more nuanced look", "had positive aspects",
     "continuation: a second quotation right after '... said Della.'"),
    ("dw.com.colonial", "Tahir Della", P, R, "This, according to Della, does nothing"),
    ("dw.com.colonial", "Tahir Della", P, PR, "We just have to look at who committed the first genocide"),
    # vice.com.amazon
    ("vice.com.amazon", "NASA", O, R, "NASA noted that though current fire levels"),
    ("vice.com.amazon", "Mark Parrington", P, D, "The state of Amazonas, in particular, has seen"),
    ("vice.com.amazon", "Mark Parrington", P, R, "According to Parrington, fires in the Amazon release"),
    ("vice.com.amazon", "Gustavo Faleiros", P, R, "said in an email that the air quality"),
    ("vice.com.amazon", "Alberto Shiguematsu", P, D, "Countryside residents started complaining"),
    ("vice.com.amazon", "Alberto Shiguematsu", P, D, "According to Shiguematsu, the sky went"),
    ("vice.com.amazon", "Alberto Shiguematsu", P, PR, "He said that in his ten years of living"),
    ("vice.com.amazon", "Alberto Shiguematsu", P, PR, "The smoke coming here, in São Paulo", "That hit me by surprise"),
    ("vice.com.amazon", "National Institute for Space Research", O, R, "National Institute for Space Research predicts", None,
     "borderline: the institute's forecast, known through 'a blog post for InfoAmazonia'"),
    ("vice.com.amazon", "Gustavo Faleiros", P, D, "There is a direct relationship between increased burning"),
    ("vice.com.amazon", "Gustavo Faleiros", P, D, "Among the 10 municipalities that recorded", None,
     "continuation: a second quotation right after '... Faleiros wrote in the blog post.'"),
    # threatpost.com.android
    ("threatpost.com.android", "Lukas Stefanko", P, D, "Using victims’ contact lists", "said Lukas Stefanko with ESET"),
    ("threatpost.com.android", "Lukas Stefanko", P, D, "However, if the operators start targeting broader groups", None,
     "continuation: a second quotation right after '... said Lukas Stefanko with ESET in a Monday analysis ...'"),
    ("threatpost.com.android", "Lukas Stefanko", P, D, "These messages include links to the ransomware"),
    ("threatpost.com.android", "Lukas Stefanko", P, R, "Stefanko said that it had reached 59 clicks"),
    # test_huffingtonPost2
    ("test_huffingtonPost2", "Rick Pate", P, D, "They just feel like there is a negative atmosphere", "Pate said"),
    ("test_huffingtonPost2", "Bill Caton", P, R, "one estimate figured as much one-fourth"),
    ("test_huffingtonPost2", "Scott Beason", P, R, "Republican Sen. Scott Beason, said he expected"),
    ("test_huffingtonPost2", "Scott Beason", P, R, "Beason predicts that trickle will become a rush"),
    ("test_huffingtonPost2", "Scott Beason", P, D, "We have the best law in the country"),
    ("test_huffingtonPost2", "Lana Boatwright", P, R, "tomato farmer Lana Boatwright said only eight"),
    ("test_huffingtonPost2", "Lana Boatwright", P, PR, "My husband and I take them to the grocery store"),
    ("test_huffingtonPost2", "Chad Smith", P, R, "Farmer Chad Smith said his family farm"),
    ("test_huffingtonPost2", "Chad Smith", P, PR, "We will be lucky to be in business next year"),
    ("test_huffingtonPost2", "Cristian Gonzalez", P, D, "We're afraid to go to Walmart", "Gonzalez said"),
    ("test_huffingtonPost2", "Cristian Gonzalez", P, PR, "We're just trying to be here one more year"),
    ("test_huffingtonPost2", "Blake Corder", P, R, "noted that the workers had left the area"),
    ("test_huffingtonPost2", "Russell Davis", P, R, "the impact will increase, said Russell Davis"),
    ("test_huffingtonPost2", "Russell Davis", P, D, "There is going to be a void", "Davis said"),
    # test_foxNews
    ("test_foxNews", "Obama", P, D, "what President Obama calls the", None, "the article gives only 'President Obama'"),
    ("test_foxNews", "Obama", P, D, "Obama also recently declared his Russian counterpart"),
    ("test_foxNews", "Moscow", O, R, "But Moscow announced Friday it will start loading fuel"),
    ("test_foxNews", "UN nuclear watchdog", O, R, "While the UN nuclear watchdog and U.S. officials say"),
    ("test_foxNews", "Robert Gibbs", P, D, "It quite clearly I think underscores"),
    ("test_foxNews", "Moscow", O, R, "Moscow has cited technical reasons for the delays"),
    ("test_foxNews", "Iran", O, R, "a program Iran says it needs to make fuel"),
    ("test_foxNews", "Russia", O, R, "After Russia said in March that Bushehr would be launched"),
    ("test_foxNews", "Hillary Rodham Clinton", P, D, "After Russia said in March that Bushehr would be launched"),
    ("test_foxNews", "P.J. Crowley", P, D, "State Department spokesman P.J. Crowley said Bushehr", "model the international community has offered Iran"),
    ("test_foxNews", "Russia", O, R, "Russia, in turn, argues that the Bushehr project"),
    ("test_foxNews", "P.J. Crowley", P, D, "Crowley added: "),
    ("test_foxNews", "Israel", O, R, "Israel and the United States have strongly objected", None,
     "borderline: 'have strongly objected to the deal' (an objection, no words given)"),
    ("test_foxNews", "United States", O, R, "Israel and the United States have strongly objected", None,
     "borderline: 'have strongly objected to the deal' (an objection, no words given)"),
    ("test_foxNews", "Russia", O, PR, "it has strongly criticized the U.S. and the European Union", None,
     "'it' = Russia (previous sentence: 'Russia has walked a fine line on Iran for years.')"),
    ("test_foxNews", "P.J. Crowley", P, D, "We expect Iran to meet established international norms"),
]

if __name__ == "__main__":
    for name, corpus, entries, ids in (("five", ROOT / "corpus", FIVE, IDS),
                                        ("second", HERE / "second" / "corpus", SECOND, {})):
        rows = build(corpus, entries, HERE / name / "gold.jsonl", ids)
        print(f"{name}: {len(rows)} statements -> {HERE / name / 'gold.jsonl'}")
