#!/usr/bin/python3
"""man-conf.py - writes refgate.conf(5) from the configuration reference in
docs/operators.md (section 3's key table), so that the man page and the
operators' guide never disagree: the guide is the one source.

    python3 scripts/man-conf.py docs/operators.md VERSION > refgate.conf.5

Exits 1 when the table is not found or has no rows."""
import re
import sys


def roff(text):
    """Markdown inline text to roff: `code` bold, escapes, no leading dot."""
    text = text.replace("\\", "\\e")
    text = re.sub(r"`([^`]*)`", lambda m: "\\fB" + m.group(1) + "\\fR", text)
    text = re.sub(r"\*\*([^*]*)\*\*", r"\\fB\1\\fR", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = text.replace("-", "\\-")
    # long URIs and paths: allow a break after each / & ? (\\: is an
    # invisible break point), so that no line is longer than the page
    text = re.sub(r"\S{40,}", lambda m: re.sub(r"([/&?,])", r"\1\\:",
                                                m.group(0)), text)
    if text.startswith((".", "'")):
        text = "\\&" + text
    return text


def table_rows(lines):
    start = None
    for i, line in enumerate(lines):
        if line.startswith("## ") and "Configuration reference" in line:
            start = i
            break
    if start is None:
        return None, []
    intro, rows, in_table = [], [], False
    for line in lines[start + 1:]:
        if line.startswith("## "):
            break
        if line.startswith("| key |"):
            in_table = True
            continue
        if in_table:
            if line.startswith("|---"):
                continue
            if not line.startswith("|"):
                break
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            rows.append(cells)
        elif line.strip():
            intro.append(line.rstrip())
    return " ".join(intro), rows


def main():
    src, version = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        intro, rows = table_rows(f.read().splitlines())
    if not rows:
        sys.stderr.write("man-conf.py: no key table in %s\n" % src)
        return 1
    out = [
        '.TH REFGATE.CONF 5 "" "refgate %s" "File Formats"' % version,
        ".ad l",
        ".SH NAME",
        "refgate.conf \\- configuration of the refgate referral gateway",
        ".SH SYNOPSIS",
        "\\fIDIR\\fR/refgate.conf, written by \\fBrefgatectl init\\fR \\fIDIR\\fR",
        ".SH DESCRIPTION",
        roff(intro),
        ".SH KEYS",
    ]
    for cells in rows:
        key, default, meaning = cells[0], cells[1], cells[2]
        example = cells[3] if len(cells) > 3 else ""
        out.append(".TP")
        out.append(roff(key) + " (default " + roff(default) + ")")
        out.append(roff(meaning) + ".")
        if example:
            out.append(".br")
            out.append("Example: " + roff(example))
    out += [
        ".SH FILES",
        "The deployment folder that \\fBrefgatectl init\\fR writes holds "
        "refgate.conf, the server's and the client CA's certificates and "
        "keys, the gateway's keys (keys/), the database (data/) and the "
        "legal team's credentials (principals/legal/).",
        ".SH SEE ALSO",
        "\\fBrefgate\\fR(8), \\fBrefgatectl\\fR(8); docs/operators.md in the "
        "source tree, from which this page is made.",
    ]
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
