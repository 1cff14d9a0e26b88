"""The runbook renderer: a small Markdown subset, and nothing a reader's browser would run. No database."""

import pytest

from governance.markdown import render_markdown


def test_headings_lists_code_and_emphasis_become_markup():
    text = "## Steps\n\n1. Check **volume**\n2. Run `make check`\n\n- one\n- _two_\n\n```\nx < 1\n```"

    html = render_markdown(text)

    assert html == (
        "<h2>Steps</h2>\n<ol>\n<li>Check <strong>volume</strong></li>\n<li>Run <code>make check</code></li>"
        "\n</ol>\n<ul>\n<li>one</li>\n<li><em>two</em></li>\n</ul>\n<pre><code>x &lt; 1</code></pre>"
    )


def test_paragraph_lines_are_kept_and_wrapped_list_items_continue():
    assert render_markdown("first\nsecond\n\n- item\n  goes on") == (
        "<p>first<br>\nsecond</p>\n<ul>\n<li>item goes on</li>\n</ul>"
    )


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[x](javascript:alert)",
        "[x](JAVASCRIPT:alert)",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](//evil.example/path)",
        "```\n</code><script>alert(1)</script>\n```",
        "`<b>`",
        "# <iframe src=x>",
    ],
)
def test_nothing_hostile_survives_as_markup(hostile):
    html = render_markdown(hostile)

    assert "<script" not in html and "<img" not in html and "<iframe" not in html and "<b>" not in html
    assert "<a " not in html


def test_a_quote_in_a_link_target_cannot_leave_the_attribute():
    html = render_markdown('[x](https://ok.example/"onmouseover="alert)')

    assert html == (
        '<p><a href="https://ok.example/&quot;onmouseover=&quot;alert" rel="nofollow noopener noreferrer">'
        "x</a></p>"
    )


def test_only_http_links_become_anchors_and_their_targets_are_escaped():
    html = render_markdown('[ok](https://a.example/?q=1&r=2) and [bad](ftp://a.example) "quoted"')

    assert '<a href="https://a.example/?q=1&amp;r=2" rel="nofollow noopener noreferrer">ok</a>' in html
    assert "[bad](ftp://a.example)" in html and "&quot;quoted&quot;" in html


def test_an_unclosed_code_fence_runs_to_the_end_and_empty_text_renders_nothing():
    assert render_markdown("```\nrm -rf <dir>") == "<pre><code>rm -rf &lt;dir&gt;</code></pre>"
    assert render_markdown("") == ""
