"""tests/hexo/normalize.py: how the conformance suite makes Hexo's and our bodies comparable."""

from __future__ import annotations

from tests.hexo.normalize import (
    body_diff,
    canonical,
    comparable_hexo,
    comparable_ours,
    map_hexo_html,
    with_asset_tokens,
    without_code_languages,
)

# What Hexo 8.1.2 wrote for `## What's New` and a ```js fence (highlight.js on, no line numbers).
HEXO_HEADING = '<h2 id="What’s-New"><a href="#What’s-New" class="headerlink" title="What’s New"></a>What’s New</h2>'
HEXO_CODE = ('<figure class="highlight js"><table><tr><td class="code"><pre><span class="line">'
             '<span class="keyword">var</span> a = <span class="string">&#x27;&lt;b&gt;&#x27;</span>;</span><br>'
             '<span class="line">  f(a);</span><br></pre></td></tr></table></figure>')


def test_heading_anchors_are_dropped():
    assert map_hexo_html(HEXO_HEADING) == '<h2 id="What’s-New">What’s New</h2>'


def test_a_highlight_table_becomes_a_code_block_with_its_language():
    assert map_hexo_html(HEXO_CODE) == '<pre><code class="language-js">var a = &#x27;&lt;b&gt;&#x27;;\n  f(a);\n</code></pre>'
    ours = '<pre><code class="language-js">var a = \'&lt;b&gt;\';\n  f(a);\n</code></pre>\n'
    assert comparable_hexo(HEXO_CODE) == comparable_ours(ours)


def test_line_numbers_plaintext_and_captions():
    numbered = ('<figure class="highlight plaintext"><table><tr><td class="gutter"><pre><span class="line">1</span>'
                '<br></pre></td><td class="code"><pre><span class="line">b</span><br></pre></td></tr></table></figure>')
    assert map_hexo_html(numbered) == "<pre><code>b\n</code></pre>"
    titled = ('<figure class="highlight json"><figcaption><span>package.json</span></figcaption><table><tr>'
              '<td class="code"><pre><span class="line">&#123;&#125;</span><br></pre></td></tr></table></figure>')
    assert map_hexo_html(titled) == ('<figure><figcaption><span>package.json</span></figcaption>'
                                     '<pre><code class="language-json">&#123;&#125;\n</code></pre></figure>')


def test_an_unknown_figure_is_left_to_show_as_a_difference():
    odd = '<figure class="highlight js"><div>no table</div></figure>'
    assert map_hexo_html(odd) == odd


def test_canonical_sorts_attributes_collapses_white_space_and_decodes_references():
    a = '<p>One  <a title="t" href="/x">link</a>\n two&#x27;s</p>\n\n<p>\n  Next </p>'
    b = '<p>One <a href="/x" title="t">link</a> two\'s</p><p>Next</p>'
    assert canonical(a) == canonical(b)
    assert canonical(b).splitlines() == ['<p>', 'One ', '<a href="/x" title="t">', 'link', '</a>', " two's",
                                         '</p>', '<p>', 'Next', '</p>']


def test_canonical_keeps_what_a_reader_sees_apart():
    assert canonical("<p>a <em>b</em></p>") != canonical("<p>a<em>b</em></p>")  # the space shows
    assert canonical("<p>a</p>") != canonical("<p>b</p>")
    assert canonical("<pre><code>a\n  b\n</code></pre>") != canonical("<pre><code>a\n b\n</code></pre>")
    assert canonical("<pre><code>a\n</code></pre>") == canonical("<pre><code>a</code></pre>")


def test_both_sides_go_through_our_sanitiser():
    # Hexo's <span id="more">, classes and frames go, as they go from every stored body.
    hexo = '<p>a</p><span id="more"></span><iframe src="https://www.youtube.com/embed/x"></iframe><p class="x">b</p>'
    assert comparable_hexo(hexo) == comparable_ours("<p>a</p>\n<p>b</p>")


def test_code_languages_hexo_does_not_know_are_left_out():
    body = canonical('<pre><code class="language-ejs">x</code></pre><pre><code class="language-JS">y</code></pre>')
    assert without_code_languages(body, frozenset({"js", "javascript"})) == canonical(
        '<pre><code>x</code></pre><pre><code class="language-JS">y</code></pre>')


def test_body_diff_is_short_and_names_the_sides():
    diff = body_diff(canonical("<p>a</p>" * 30), canonical("<p>b</p>" * 30), limit=5)
    assert diff.startswith("@@") and "-a" in diff and "+b" in diff
    assert diff.splitlines()[-1].startswith("… (") and len(diff.splitlines()) == 6
    assert body_diff("same", "same") == ""


def test_post_assets_compare_by_content():
    digest = "ab" * 32
    hexo = canonical('<p><img src="/news/2014/07/13/post/chart.png"></p>')
    ours = canonical(f'<p><img src="/media/hexo-assets/ab/{digest}.png"></p>')
    assert with_asset_tokens(hexo, {"/news/2014/07/13/post/chart.png": digest}) == with_asset_tokens(ours)
    assert with_asset_tokens(hexo, {"/news/2014/07/13/post/chart.png": "cd" * 32}) != with_asset_tokens(ours)
