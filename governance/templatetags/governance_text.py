"""Template filters of the governance pages: people's Markdown rendered safely, signal values in their
units."""

from django import template
from django.utils.safestring import SafeString, mark_safe

from governance.explain import signal_value as _signal_value
from governance.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text: object) -> SafeString:
    """Runbooks and postmortem sections as HTML. `render_markdown` escapes everything first and makes
    only its small subset into markup, so marking its output safe cannot let a tag or handler through."""
    return mark_safe(render_markdown(str(text or "")))


@register.filter
def signal_value(value: float | None, signal: str) -> str:
    """`{{ event.latest_value|signal_value:event.signal }}`: '64%' for a share, not '0.643'."""
    return _signal_value(str(signal or ""), value)
