"""Template filters of the governance pages: people's Markdown rendered safely."""

from django import template
from django.utils.safestring import SafeString, mark_safe

from governance.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text: object) -> SafeString:
    """Runbooks and postmortem sections as HTML. `render_markdown` escapes everything first and makes
    only its small subset into markup, so marking its output safe cannot let a tag or handler through."""
    return mark_safe(render_markdown(str(text or "")))
