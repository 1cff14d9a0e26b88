"""`{% page_cache key %}…{% endpage_cache %}`: a fragment rendered once per key, then read from the cache.

Like Django's `{% cache %}`, with two differences the pages need: the key is complete as given (the
view digests everything the fragment depends on, see `drift.views.page_cache`), and a cache that fails
(Redis down) renders the fragment instead of failing the page. An empty key renders without caching.
"""

import logging

from django import template
from django.core.cache import cache
from django.utils.safestring import mark_safe

from drift.page_selectors.run_cache import TTL

log = logging.getLogger(__name__)
register = template.Library()


class PageCacheNode(template.Node):
    def __init__(self, nodelist: template.NodeList, key: template.base.FilterExpression) -> None:
        self.nodelist, self.key = nodelist, key

    def render(self, context: template.Context) -> str:
        key = self.key.resolve(context)
        if not key:
            return self.nodelist.render(context)
        try:
            found = cache.get(key)
        except Exception:
            log.warning("page cache unavailable; rendering the fragment", exc_info=True)
            return self.nodelist.render(context)
        if found is not None:
            return mark_safe(found)  # our own fragment, escaped when it was rendered
        html = self.nodelist.render(context)
        try:
            cache.set(key, str(html), TTL)
        except Exception:
            log.warning("page cache unavailable; not storing", exc_info=True)
        return html


@register.tag
def page_cache(parser: template.base.Parser, token: template.base.Token) -> PageCacheNode:
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("usage: {% page_cache key %}…{% endpage_cache %}")
    nodelist = parser.parse(("endpage_cache",))
    parser.delete_first_token()
    return PageCacheNode(nodelist, parser.compile_filter(bits[1]))
