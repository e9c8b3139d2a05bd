"""Reading each file format into sources: saved news pages (trafilatura), exports, text datelines.

The pages are written here in the shape of real news sites: masthead, menus, a
cookie banner, teasers for other stories, a comment thread, JSON-LD and OpenGraph.
No model, no index: these tests only read files.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import trafilatura

from qa.ingest.formats import SUPPORTED, ExtractorChanged, Source, derive_text, read_sources

MAX = 5_000_000

KARACHI_BODY = [
    "ISLAMABAD - Russian President Vladimir Putin has called off a visit to Pakistan that would have "
    "been the first by a Russian head of state, officials in Islamabad said on Monday, leaving a "
    "planned four-nation summit on Afghanistan without its guest of honour.",
    "Mr Putin had been due to arrive on October 2 for talks with the leaders of Pakistan, Afghanistan "
    "and Tajikistan. The Kremlin gave no public reason for the cancellation, and a foreign ministry "
    "spokesman in Islamabad said only that new dates would be fixed through diplomatic channels.",
    "The decision stung in Pakistan, where commentators had hailed the trip as a turning point after "
    "decades of cold-war suspicion. No Russian leader has visited the country in the past 44 years.",
    "Days later the army chief, General Ashfaq Parvez Kayani, flew to Moscow for a four-day visit, a "
    "sign that both capitals want to keep the thaw alive. Pakistan hopes to buy Russian defence "
    "equipment, and Gazprom has shown interest in the Iran-Pakistan gas pipeline.",
    "Analysts caution that Moscow will move slowly. India, Pakistan's neighbour and rival, remains one "
    "of Russia's largest arms customers, and Russian officials are wary of alienating New Delhi.",
]

KARACHI = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Putin calls off historic Pakistan visit | The Karachi Ledger</title>
<meta property="og:site_name" content="The Karachi Ledger">
<meta property="og:url" content="https://www.karachiledger.com/world/2012/10/08/putin-calls-off-pakistan-visit">
<meta property="og:title" content="Putin calls off historic Pakistan visit">
<meta property="og:type" content="article">
<script type="application/ld+json">
{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "Putin calls off historic Pakistan visit",
 "datePublished": "2012-10-08T09:30:00+05:00", "dateModified": "2012-10-09T11:00:00+05:00",
 "author": {"@type": "Person", "name": "Amina Qureshi"},
 "publisher": {"@type": "Organization", "name": "The Karachi Ledger"}}
</script>
</head>
<body>
<div id="cookie-banner" class="cookie-consent">We use cookies to improve your experience on our site.
 By continuing to browse you agree to our use of cookies. <button>Accept all cookies</button></div>
<header class="masthead"><a href="/" class="logo">The Karachi Ledger</a>
 <p class="tagline">Independent news since 1948</p>
 <nav class="main-nav"><ul><li><a href="/pakistan">Pakistan</a></li><li><a href="/world">World</a></li>
 <li><a href="/business">Business</a></li><li><a href="/sport">Sport</a></li><li><a href="/opinion">Opinion</a></li>
 <li><a href="/subscribe">Subscribe today</a></li></ul></nav></header>
<main>
<article class="story">
<h1 class="headline">Putin calls off historic Pakistan visit</h1>
<p class="byline">By <a rel="author" href="/authors/amina-qureshi">Amina Qureshi</a></p>
<time datetime="2012-10-08T09:30:00+05:00">October 8, 2012</time>
<div class="story-body">
""" + "\n".join(f"<p>{p}</p>" for p in KARACHI_BODY) + """
</div>
</article>
<aside class="related"><h3>More from the Ledger</h3><ul>
<li><a href="/sport/cricket-final">Cricket board names squad for the Champions Trophy final</a></li>
<li><a href="/business/rupee">Rupee slides to record low against the dollar</a></li>
<li><a href="/world/monsoon">Monsoon floods displace thousands in Sindh</a></li></ul></aside>
<section id="comments" class="comments"><h3>Reader comments</h3>
<div class="comment"><p class="comment-author">Faisal from Lahore</p>
<p>Another snub from Moscow, our diplomats never learn their lesson.</p></div>
<div class="comment"><p class="comment-author">Sana K.</p>
<p>Comments are moderated: please keep the debate civil and on topic.</p></div></section>
</main>
<footer><p>Copyright 2012 The Karachi Ledger. All rights reserved.</p>
<ul><li><a href="/privacy">Privacy policy</a></li><li><a href="/terms">Terms of use</a></li></ul></footer>
</body></html>
"""

# No og:site_name: the outlet is whatever names the site (trafilatura's sitename, else the domain).
MOSCOW_BODY = [
    "MOSCOW - Pakistan's army chief of staff, General Ashfaq Parvez Kayani, arrived in Moscow on "
    "Wednesday for talks with Russian military leaders, only days after President Vladimir Putin "
    "cancelled a planned trip to Islamabad.",
    "The four-day visit is the most senior by a Pakistani commander in years. Officials said the "
    "talks would cover counter-terrorism, the withdrawal of Nato forces from Afghanistan in 2014 and "
    "the possible sale of Russian helicopters and engines to Pakistan.",
    "Ruslan Pukhov, director of the Centre for Analysis of Strategies and Technologies in Moscow, said "
    "Russia was unhappy that India was buying more weapons from Western suppliers and wanted to show "
    "New Delhi that it, too, could diversify its partners in the region.",
    "Pakistani officials were keen to stress that the cancelled summit had not derailed relations. "
    "President Asif Ali Zardari visited Russia in May, and Moscow has endorsed Pakistan's bid to join "
    "the Shanghai Cooperation Organisation.",
]

MOSCOW = """<!doctype html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>Pakistan army chief in Moscow after Putin snub</title>
<meta name="author" content="Dmitri Volkov">
<meta property="og:url" content="https://www.moscowwire.net/news/pakistan-army-chief-in-moscow">
<meta property="article:published_time" content="2012-10-03T14:05:00+04:00">
</head><body>
<div class="gdpr-notice"><p>This website uses cookies and similar technologies to personalise
 advertising. Manage your cookie preferences.</p></div>
<div id="top-menu"><a href="/">Home</a> | <a href="/russia">Russia</a> | <a href="/world">World</a> |
 <a href="/economy">Economy</a> | <a href="/newsletter">Sign up to our newsletter</a></div>
<div class="content"><div class="article-text">
<h1>Pakistan army chief in Moscow after Putin snub</h1>
<div class="author-line">Dmitri Volkov, Moscow correspondent</div>
""" + "\n".join(f"<p>{p}</p>" for p in MOSCOW_BODY) + """
</div>
<div class="teasers"><h4>Read next</h4>
<div class="teaser"><a href="/sport/hockey">Hockey league season opens after lockout talks</a></div>
<div class="teaser"><a href="/economy/oil">Oil prices steady ahead of OPEC meeting</a></div></div>
<div class="comments-area"><h4>Discussion</h4><ul>
<li class="comment">Ivan P.: Good news for the helicopter factories in Kazan.</li>
<li class="comment">Moderator: Log in to join the discussion.</li></ul></div>
</div>
<div class="footer">Moscow Wire news agency. Reproduction prohibited.</div>
</body></html>
"""

# An analysis page: the body in itemprop="articleBody", share buttons and a newsletter box inside it.
ANALYSIS_BODY = [
    "Russia, India's strongest international partner, is trying its hand at engaging Pakistan, an "
    "exercise that is being watched carefully in New Delhi.",
    "Vladimir Putin had been expected in Islamabad on September 26 for a quadrilateral meeting with "
    "Tajikistan, Pakistan and Afghanistan on the future of Afghanistan, alongside a first-ever "
    "bilateral summit. The quadrilateral last met in Dushanbe in 2011.",
    "Prabhat Shukla, a former Indian envoy to Russia, called the Russian opening to Pakistan a "
    "well-settled response to a perceived opening by India towards the United States, one seen in "
    "the late 1960s and again a decade later.",
    "Russia, until now, has been the only major power to keep Pakistan on its negative list for arms "
    "sales. Indian officials expect that to change, and say they will watch any supply of tank spares "
    "to Pakistan carefully.",
]

ANALYSIS = """<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="UTF-8">
<title>Why Moscow is courting Islamabad - Analysis - Frontier Review</title>
<meta property="og:site_name" content="Frontier Review">
<meta property="og:url" content="https://frontierreview.com/analysis/why-moscow-is-courting-islamabad/">
<meta property="og:title" content="Why Moscow is courting Islamabad">
<script type="application/ld+json">
[{"@context": "https://schema.org", "@type": "WebSite", "name": "Frontier Review", "url": "https://frontierreview.com/"},
 {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Why Moscow is courting Islamabad",
  "datePublished": "2012-09-14", "author": [{"@type": "Person", "name": "Indrani Bagchi"}]}]
</script></head>
<body class="single-post">
<div class="cc-window" role="dialog">This site uses cookies to deliver its services. <a href="/privacy">Learn more</a>
 <a class="cc-btn">Got it!</a></div>
<div class="site-header"><div class="brand">Frontier Review</div>
 <ul class="menu"><li><a href="/analysis">Analysis</a></li><li><a href="/region">Region</a></li>
 <li><a href="/donate">Support our journalism</a></li></ul></div>
<div class="breadcrumbs"><a href="/">Home</a> &raquo; <a href="/analysis">Analysis</a></div>
<div class="post">
<h1 class="entry-title">Why Moscow is courting Islamabad</h1>
<div class="entry-meta">Posted on <span class="date">September 14, 2012</span> by
 <span class="author vcard"><a class="url fn n" href="/author/ibagchi">Indrani Bagchi</a></span></div>
<div class="share-buttons"><a href="#">Share on Facebook</a> <a href="#">Tweet this</a></div>
<div class="entry-content" itemprop="articleBody">
""" + "\n".join(f"<p>{p}</p>" for p in ANALYSIS_BODY) + """
</div>
<div class="newsletter-signup"><h4>Get the Frontier briefing</h4><p>Enter your email for our weekly newsletter.</p>
<form><input type="email"><button>Sign me up</button></form></div>
</div>
<div id="disqus_thread"><h3>42 thoughts on this story</h3>
<ol class="commentlist"><li class="comment"><p>Rohan: Moscow plays both sides as always.</p></li>
<li class="comment"><p>Leave a Reply. Your email address will not be published.</p></li></ol></div>
<div class="widget related-posts"><h3>You may also like</h3><ul><li><a href="/x">Ten recipes for Eid</a></li>
<li><a href="/y">Markets rally as the budget passes</a></li></ul></div>
<div class="site-footer">&copy; 2012 Frontier Review. Theme by Example.</div>
</body></html>
"""

BOILERPLATE = ["cookies", "Subscribe today", "Independent news since", "Cricket board", "Rupee slides",
               "Monsoon floods", "Reader comments", "Another snub", "moderated", "Privacy policy",
               "Copyright", "cookie preferences", "Sign up to our newsletter", "Hockey league",
               "Oil prices", "helicopter factories", "join the discussion", "Reproduction prohibited",
               "Got it", "Support our journalism", "Home", "Share on Facebook", "Tweet this", "briefing",
               "Sign me up", "thoughts on this story", "both sides", "Leave a Reply", "recipes",
               "Markets rally", "Theme by"]


def write(folder: Path, name: str, content: str | bytes) -> Path:
    p = folder / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8")
    return p


def only(path: Path) -> Source:
    sources, warnings = read_sources(path, MAX)
    assert warnings == [] and len(sources) == 1, warnings
    return sources[0]


def test_supported_formats():
    assert SUPPORTED == (".txt", ".md", ".html", ".htm", ".jsonl", ".csv")


@pytest.mark.parametrize("name, html, body, meta", [
    ("putin-visit.html", KARACHI, KARACHI_BODY,
     dict(title="Putin calls off historic Pakistan visit", date="2012-10-08", outlet="The Karachi Ledger",
          author="Amina Qureshi", url="https://www.karachiledger.com/world/2012/10/08/putin-calls-off-pakistan-visit")),
    ("kayani-moscow.htm", MOSCOW, MOSCOW_BODY,
     dict(title="Pakistan army chief in Moscow after Putin snub", date="2012-10-03", outlet="moscowwire.net",
          author="Dmitri Volkov", url="https://www.moscowwire.net/news/pakistan-army-chief-in-moscow")),
    ("courting.html", ANALYSIS, ANALYSIS_BODY,
     dict(title="Why Moscow is courting Islamabad", date="2012-09-14", outlet="Frontier Review",
          author="Indrani Bagchi", url="https://frontierreview.com/analysis/why-moscow-is-courting-islamabad/")),
])
def test_html_page_main_text_and_metadata(tmp_path, name, html, body, meta):
    path = write(tmp_path, name, html)
    s = only(path)
    assert (s.doc_id, s.path, s.record) == (path.stem, str(path), None)
    assert s.extractor == f"trafilatura {trafilatura.__version__}"
    assert {k: getattr(s, k) for k in meta} == meta
    lines = s.text.split("\n")
    for paragraph in body:  # every paragraph, whole, on a line of its own
        assert paragraph in lines
    assert lines.index(body[0]) < lines.index(body[-1])
    for junk in BOILERPLATE:
        assert junk not in s.text, junk
    again = only(path)
    assert again == s
    assert derive_text(path, None, s.extractor, MAX) == s.text


def test_html_extractor_change_is_refused(tmp_path):
    path = write(tmp_path, "putin-visit.html", KARACHI)
    now = only(path).extractor
    with pytest.raises(ExtractorChanged) as e:
        derive_text(path, None, "trafilatura 1.6.0", MAX)
    assert str(e.value) == f"the extractor changed since indexing: indexed with trafilatura 1.6.0, now {now}"
    assert isinstance(e.value, ValueError)


def test_html_declared_charset(tmp_path):
    html = MOSCOW.replace("charset=utf-8", "charset=windows-1252").replace("Zardari", "Zardari\u2019s")
    path = write(tmp_path, "cp1252.html", html.encode("cp1252"))
    assert "Zardari\u2019s" in only(path).text


def test_html_without_an_article_is_skipped(tmp_path):
    page = "<html><head><title>Home</title></head><body><nav><a href='/'>Home</a></nav><p>Welcome!</p></body></html>"
    path = write(tmp_path, "front.html", page)
    sources, warnings = read_sources(path, MAX)
    assert sources == [] and len(warnings) == 1
    assert warnings[0].startswith("skipped front.html: no article text found")


@pytest.mark.parametrize("name, content, reason", [
    ("photo.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40, "binary file"),
    ("noise.html", bytes(range(1, 256)) * 40, "not an HTML page"),
    ("zero.html", b"", "empty"),
    ("zero.txt", b"", "empty"),
    ("blank.jsonl", b"\n\n  \n", "empty"),
    ("latin.txt", "Caf\u00e9 in Islamabad, October 8, 2012".encode("latin-1"), "not UTF-8"),
    ("latin.html", ("<html><body><p>" + "Caf\u00e9 " * 100 + "</p></body></html>").encode("latin-1"),
     "not UTF-8 and no declared charset"),
    ("controls.txt", bytes(range(1, 32)) * 50, "binary-looking"),
])
def test_bad_files_are_skipped_with_a_reason(tmp_path, name, content, reason):
    path = write(tmp_path, name, content)
    sources, warnings = read_sources(path, MAX)
    assert sources == []
    assert len(warnings) == 1 and warnings[0].startswith(f"skipped {name}: {reason}"), warnings


def test_too_large_and_unknown(tmp_path):
    big = write(tmp_path, "big.txt", "word " * 1000)
    assert read_sources(big, 100) == ([], ["skipped big.txt: too large (5,000 bytes; the limit is 100)"])
    doc = write(tmp_path, "report.pdf", b"%PDF-1.4")
    assert read_sources(doc, MAX) == (
        [], ["skipped report.pdf: unknown format (qa reads .txt, .md, .html, .htm, .jsonl, .csv)"])


def test_huge_single_line_is_fine(tmp_path):
    line = "Islamabad talks continue. " * 80_000  # about 2 MB, no newline
    assert only(write(tmp_path, "long.txt", line)).text == line
    page = only(write(tmp_path, "long.html", f"<html><body><p>{line}</p></body></html>"))
    assert page.text == line.strip()
    rec = json.dumps({"text": line, "title": "Long"})
    write(tmp_path, "long.jsonl", rec + "\n")
    with open(tmp_path / "long.csv", "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["title", "text"], ["Long", line]])
    for name in ("long.jsonl", "long.csv"):
        [s], warnings = read_sources(tmp_path / name, MAX)
        assert s.text == line and warnings == []


RECORDS = [
    {"title": "Putin cancels Islamabad trip", "date": "October 1, 2012", "outlet": "Dawn",
     "author": "Baqir Sajjad Syed", "url": "https://www.dawn.com/news/putin-cancels",
     "text": "  ISLAMABAD: Russian President Vladimir Putin has postponed his visit.\r\nNo new date was given.\n"},
    {"title": "Kayani in Moscow", "date": "2012-10-03T10:00:00+04:00", "source": "RIA Novosti",
     "text": "Pakistan\u2019s army chief began a four-day visit to Moscow on Wednesday.\u2028Talks cover arms sales."},
    {"title": "Gazprom and the pipeline", "date": "last month", "url": "https://www.tribune.com.pk/story/4471",
     "text": "Gazprom wants a role in the Iran-Pakistan pipeline, officials said."},
]
EXPECTED = [("Dawn", "2012-10-01", "Baqir Sajjad Syed"), ("RIA Novosti", "2012-10-03", None),
            ("tribune.com.pk", None, None)]


def check_export(sources, warnings, path, bad):
    assert [s.doc_id for s in sources] == ["export-1", "export-2", "export-4"]
    assert [s.record for s in sources] == [1, 2, 4]
    for s, rec, (outlet, date, author) in zip(sources, RECORDS, EXPECTED):
        assert s.text == rec["text"]  # exactly, no stripping, no newline translation
        assert (s.title, s.outlet, s.date, s.author, s.url) == (rec["title"], outlet, date, author, rec.get("url"))
        assert s.path == str(path) and s.extractor == path.suffix[1:]
        assert derive_text(path, s.record, s.extractor, MAX) == s.text
    assert [w.split(" (line")[0] for w in warnings] == [f"skipped export{path.suffix} record {n}" for n, _ in bad]
    assert [int(w.split("(line ")[1].split(")")[0]) for w in warnings] == [line for _, line in bad]
    with pytest.raises(ValueError, match="record 3 of export"):
        derive_text(path, 3, path.suffix[1:], MAX)


def test_jsonl_export(tmp_path):
    lines = [json.dumps(RECORDS[0]), json.dumps(RECORDS[1], ensure_ascii=False), "",
             json.dumps({"title": "No body here", "text": "   "}), json.dumps(RECORDS[2]),
             '{"title": "cut off', "[1, 2, 3]", "   "]
    path = write(tmp_path, "export.jsonl", "\n".join(lines) + "\n")
    sources, warnings = read_sources(path, MAX)
    # records: 1, 2, 3 (no text), 4, 5 (not JSON), 6 (not an object); blank lines are not counted
    # as records, but a warning gives the line's number in the file
    assert [s.doc_id for s in sources] == ["export-1", "export-2", "export-4"]
    assert warnings[0] == "skipped export.jsonl record 3 (line 4): no text (a non-empty 'text' field is required)"
    assert warnings[1].startswith("skipped export.jsonl record 5 (line 6): not JSON")
    assert warnings[2] == "skipped export.jsonl record 6 (line 7): not a JSON object (a list)"
    check_export(sources, warnings, path, [(3, 4), (5, 6), (6, 7)])
    assert read_sources(path, MAX) == (sources, warnings)


def test_csv_export(tmp_path):
    path = tmp_path / "export.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as f:  # a BOM, as Excel writes it
        w = csv.writer(f)
        w.writerow([" Title", "TEXT ", "Date", "URL", "Outlet", "Source", "Author"])
        rows = [RECORDS[0], RECORDS[1], {"title": "Empty", "text": ""}, RECORDS[2]]
        for r in rows:
            w.writerow([r.get(k, "") for k in ("title", "text", "date", "url", "outlet", "source", "author")])
    sources, warnings = read_sources(path, MAX)
    check_export(sources, warnings, path, [(3, 6)])     # record 1 spans lines 2-4 (quoted line breaks)
    no_text = write(tmp_path, "notext.csv", "title,body\nA,B\n")
    assert read_sources(no_text, MAX) == ([], ["skipped notext.csv: no 'text' column (found: title, body)"])


def test_hostile_records_are_skipped(tmp_path):
    lines = ['{"text": "lone \\ud800 surrogate in an otherwise fine article"}',
             "[" * 100_000 + "]" * 100_000,
             json.dumps({"text": "A fine record.", "title": "\udfff", "author": " ", "date": "x" * 10_000,
                         "url": "http://[::1"}),
             json.dumps({"text": "\u0001\u0002\u0003\u0004" * 50})]
    path = write(tmp_path, "hostile.jsonl", "\n".join(lines))
    sources, warnings = read_sources(path, MAX)
    assert [(s.doc_id, s.text, s.title, s.date, s.url, s.outlet) for s in sources] == [
        ("hostile-3", "A fine record.", None, None, "http://[::1", None)]  # a lone-surrogate title is dropped
    assert warnings[0] == "skipped hostile.jsonl record 1 (line 1): not valid Unicode (lone surrogates)"
    assert warnings[1].startswith("skipped hostile.jsonl record 2 (line 2): not JSON")
    assert warnings[2] == "skipped hostile.jsonl record 4 (line 4): binary-looking text (many control characters)"
    deep = "<div>" * 50_000 + "text" + "</div>" * 50_000
    page = write(tmp_path, "nested.html", f"<html><body>{deep}</body></html>")
    sources, warnings = read_sources(page, MAX)
    assert sources == [] and warnings[0].startswith("skipped nested.html: ")


DATELINE = ("Pakistan, Russia pledge closer ties\n\nBy Staff Reporter\n"
            "ISLAMABAD, October 8, 2012 - Pakistan and Russia agreed on Monday to reschedule the summit.\n")


@pytest.mark.parametrize("text, date", [
    (DATELINE, "2012-10-08"),
    ("Talks resume\nMonday, October 8, 2012\n\nMOSCOW - The talks resumed.\n", "2012-10-08"),
    ("Oct. 8, 2012\nThe talks resumed.\n", "2012-10-08"),
    ("Posted 8 October 2012 by the desk\nThe talks resumed.\n", "2012-10-08"),
    ("Filed: 2012-10-08\nThe talks resumed.\n", "2012-10-08"),
    ("Russia and Pakistan\n\nThe two countries held talks in 2012 and again last month.\n", None),
    ("October 2012 in review\nNothing happened.\n", None),
    ("a\nb\nc\nd\ne\nf\ng\nOctober 8, 2012\n", None),  # too far down to be a dateline
    ("Pakistan and Russia held no summit this year, officials said.\n", None),
])
def test_txt_dateline(tmp_path, text, date):
    s = only(write(tmp_path, "story.txt", text))
    assert s.date == date
    assert (s.title, s.outlet, s.author, s.url, s.record, s.extractor) == (None, None, None, None, None, "text")


def test_txt_text_is_the_file_as_python_reads_it(tmp_path):
    path = write(tmp_path, "crlf.md", b"# Title\r\nISLAMABAD, Oct. 8, 2012\r\nBody line.\rOld Mac line.\n")
    s = only(path)
    assert s.text == open(path, encoding="utf-8").read()
    assert s.text == "# Title\nISLAMABAD, Oct. 8, 2012\nBody line.\nOld Mac line.\n"
    assert (s.doc_id, s.date) == ("crlf", "2012-10-08")
    assert derive_text(path, None, "text", MAX) == s.text
    with pytest.raises(ExtractorChanged, match="indexed with trafilatura 2.3.1, now text$"):
        derive_text(path, None, "trafilatura 2.3.1", MAX)


def test_derive_text_of_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match="gone"):
        derive_text(tmp_path / "vanished.txt", None, "text", MAX)


def test_seed_articles_read_as_text():
    seeds = sorted((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))
    assert seeds
    for p in seeds:
        s = only(p)
        assert s.text == open(p, encoding="utf-8").read()
