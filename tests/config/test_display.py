"""What an error message may show of a config's content: quoted, one line, bounded, no credentials."""

from __future__ import annotations

from streampath.config.display import MAX_LINE_CHARS, dotted, one_line, shown


def test_shown_values() -> None:
    assert shown(None) == "null"
    assert shown(True) == "true"
    assert shown({"a": 1}) == "a mapping"
    assert shown([1]) == "a list"
    assert shown(7200) == "7200"
    assert shown("x\x00\x1b[2J\n\u2028\u202e\ud800") == "'x\\x00\\x1b[2J\\n\\u2028\\u202e\\ud800'"
    assert shown("ftp://u:secret@h/") == "'ftp://***@h/'"
    long = shown("A" * 1000)
    assert len(long) == 200 and long == "'" + "A" * 197 + "…'"


def test_dotted_paths_quote_odd_keys() -> None:
    assert dotted(["canary", "paths", 0, "url"]) == "canary.paths[0].url"
    assert dotted(["tags", "a b"]) == "tags.'a b'"
    assert dotted(["headers", "x\n", "[key]"]) == "headers.'x\\n' (key)"


def test_one_line_escapes_and_bounds() -> None:
    assert one_line("a\nb\x1b[0m\x85c\tftp://u:p@h/") == "a\\nb\\x1b[0m\\x85c\\tftp://***@h/"
    assert len(one_line("x" * 5000)) == MAX_LINE_CHARS
