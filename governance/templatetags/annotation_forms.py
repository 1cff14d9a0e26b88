"""`{% flag_fields %}`: the category and note fields every flag form shares (prediction rows, the
prediction page, the model page's range form, the flag page)."""

from typing import Any

from django import template

from governance.models import AnnotationCategory
from governance.services.annotations import MAX_NOTE

register = template.Library()


@register.inclusion_tag("governance/_flag_fields.html")
def flag_fields(category: str = "", note: str = "", invalid: Any = (), rows: int = 2) -> dict[str, Any]:
    """`invalid`: the names of fields a refusal named (they get aria-invalid)."""
    return {
        "categories": AnnotationCategory.choices,
        "category": category,
        "note": note,
        "invalid": list(invalid or ()),
        "rows": rows,
        "max_note": MAX_NOTE,
    }
