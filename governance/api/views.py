"""v1 API for governance: audit, policies, drift events, the serving gate, channels and deliveries.

Incidents live in `governance.api.incident_views`. Each handler validates, calls one service or
selector and serializes; permissions come from `required_roles` (monitoring_site.permissions).
"""

import hashlib
import json
from typing import Any

from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from drift.roles import ANALYST, VIEWER
from drift.selectors import model_for
from governance import selectors
from governance.api import serializers as s
from governance.api.common import PAGE, CSVRenderer, body, csv_rows, paginate, query
from governance.selectors_runbooks import runbook_from_body
from governance.services.audit import Actor
from governance.services.events import drift_event_transition
from governance.services.gate import serving_mode_set
from governance.services.notifications import channel_create, channel_update
from governance.services.policies import policy_create, policy_deactivate, policy_update
from governance.services.runbooks import policy_link_runbook

AUDIT_FILTERS = ("model", "action", "actor", "since", "until")
AUDIT_PARAMS = [
    OpenApiParameter("model", str, description="A model's slug."),
    OpenApiParameter("action", str, description="'policy.update', or a prefix such as 'policy'."),
    OpenApiParameter("actor", str, description="e.g. alice, policy:3, system:incidents_escalate."),
    OpenApiParameter("since", str, description="ISO 8601, inclusive."),
    OpenApiParameter("until", str, description="ISO 8601, exclusive."),
    OpenApiParameter("format", str, description="'csv' for a CSV export of every matching entry."),
]
AUDIT_COLUMNS = [
    "id",
    "at",
    "actor",
    "user_id",
    "action",
    "object_type",
    "object_id",
    "model",
    "before",
    "after",
    "reason",
]


def _audit_csv(request: Request) -> StreamingHttpResponse:
    entries = selectors.audit_entries(**query(request, *AUDIT_FILTERS))
    rows = (
        [
            e.pk,
            e.at.isoformat(),
            e.actor,
            e.user_id,
            e.action,
            e.object_type,
            e.object_id,
            e.model.slug if e.model else "",
            e.before,
            e.after,
            e.reason,
        ]
        for e in entries.iterator(chunk_size=2000)
    )
    response = StreamingHttpResponse(csv_rows(AUDIT_COLUMNS, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="driftwatch-audit.csv"'
    return response


class AuditListView(APIView):
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]

    @extend_schema(parameters=[*AUDIT_PARAMS, *PAGE], responses=s.AuditEntrySerializer(many=True))
    def get(self, request: Request):  # type: ignore[no-untyped-def]
        if request.accepted_renderer.format == "csv":
            return _audit_csv(request)
        entries = selectors.audit_entries(**query(request, *AUDIT_FILTERS))
        return paginate(request, self, entries, s.AuditEntrySerializer)


class AuditExportView(APIView):
    renderer_classes = [CSVRenderer, JSONRenderer]

    @extend_schema(parameters=AUDIT_PARAMS[:-1], responses={(200, "text/csv"): str})
    def get(self, request: Request) -> StreamingHttpResponse:
        return _audit_csv(request)


class ModelPoliciesView(APIView):
    @extend_schema(parameters=PAGE, responses=s.PolicySerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        policies = selectors.policies_of(model_for(request.user, slug))
        return paginate(request, self, policies.order_by("name", "id"), s.PolicySerializer)

    @extend_schema(request=s.PolicyCreateSerializer, responses={201: s.PolicySerializer})
    def post(self, request: Request, slug: str) -> Response:
        data = s.PolicyCreateSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        v["runbook"] = runbook_from_body(request.user, v.get("runbook"))
        policy = policy_create(model=model_for(request.user, slug), by=request.user, **v)
        fresh = selectors.policy_for(request.user, policy.pk)
        return Response(s.PolicySerializer(fresh).data, status=status.HTTP_201_CREATED)


class PolicyDetailView(APIView):
    @extend_schema(responses=s.PolicySerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.PolicySerializer(selectors.policy_for(request.user, pk)).data)

    @extend_schema(request=s.PolicyUpdateSerializer, responses=s.PolicySerializer)
    def put(self, request: Request, pk: int) -> Response:
        data = s.PolicyUpdateSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        policy_update(policy=selectors.policy_for(request.user, pk), by=request.user, **data.validated_data)
        return Response(s.PolicySerializer(selectors.policy_for(request.user, pk)).data)

    @extend_schema(request=s.PolicyRunbookSerializer, responses=s.PolicySerializer)
    def patch(self, request: Request, pk: int) -> Response:
        """Link the policy's runbook (not a rule change, so no new policy version)."""
        data = s.PolicyRunbookSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        runbook = runbook_from_body(request.user, data.validated_data["runbook"])
        policy = selectors.policy_for(request.user, pk)
        policy_link_runbook(policy=policy, runbook=runbook, by=request.user, **_reason(data))
        return Response(s.PolicySerializer(selectors.policy_for(request.user, pk)).data)

    @extend_schema(
        parameters=[OpenApiParameter("reason", str, description="Why it is deactivated.")],
        responses=s.PolicySerializer,
    )
    def delete(self, request: Request, pk: int) -> Response:
        reason = request.query_params.get("reason", "")
        policy_deactivate(policy=selectors.policy_for(request.user, pk), by=request.user, reason=reason)
        return Response(s.PolicySerializer(selectors.policy_for(request.user, pk)).data)


def _reason(data: Any) -> dict[str, str]:
    return {"reason": data.validated_data.get("reason", "")}


EVENT_PARAMS = [
    OpenApiParameter("model", str),
    OpenApiParameter("status", str),
    OpenApiParameter("severity", str),
    OpenApiParameter("open", bool, description="Only events not resolved and not false alarms."),
    OpenApiParameter("drill", int, description="A drill's id: its events (otherwise real events only)."),
]


class EventListView(APIView):
    @extend_schema(parameters=[*EVENT_PARAMS, *PAGE], responses=s.EventSerializer(many=True))
    def get(self, request: Request) -> Response:
        events = selectors.events_list(
            request.user,
            **query(request, "model", "status", "severity", "drill"),
            open_only=request.query_params.get("open", "").lower() in {"1", "true", "yes"},
        )
        return paginate(request, self, events, s.EventSerializer)


class EventDetailView(APIView):
    @extend_schema(responses=s.EventDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        event = selectors.event_for(request.user, pk)
        history = selectors.event_history(event)
        return Response(s.EventDetailSerializer(event, context={"history": history}).data)


class EventTransitionView(APIView):
    required_roles = {"POST": ANALYST}

    @extend_schema(request=s.EventTransitionSerializer, responses=s.EventDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = s.EventTransitionSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        event = drift_event_transition(
            event=selectors.event_for(request.user, pk), by=request.user, **data.validated_data
        )
        fresh = selectors.event_for(request.user, event.pk)
        return Response(
            s.EventDetailSerializer(fresh, context={"history": selectors.event_history(fresh)}).data
        )


def _etag(payload: bytes) -> str:
    return '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'


def _matches(header: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


class ServingDecisionView(APIView):
    """Polled by production systems: answers 304 when nothing changed since their copy (ETag)."""

    integration_methods = {"GET"}
    required_roles = {"GET": VIEWER}

    @extend_schema(responses={200: s.ServingDecisionSerializer, 304: None})
    def get(self, request: Request, slug: str) -> Response:
        data = s.ServingDecisionSerializer(selectors.serving_decision(request.user, slug)).data
        etag = _etag(json.dumps(data, cls=JSONEncoder, sort_keys=True).encode())
        max_age = settings.DRIFTWATCH.get("SERVING_DECISION_MAX_AGE", 5)
        headers = {"ETag": etag, "Cache-Control": f"private, max-age={max_age}", "Vary": "Authorization"}
        if _matches(request.headers.get("If-None-Match", ""), etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(data, headers=headers)


class ServingModeView(APIView):
    required_roles = {"POST": ANALYST}

    @extend_schema(request=s.ServingModeSerializer, responses=s.ServingDecisionSerializer)
    def post(self, request: Request, slug: str) -> Response:
        data = s.ServingModeSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        serving_mode_set(model=model_for(request.user, slug), by=request.user, **data.validated_data)
        return Response(s.ServingDecisionSerializer(selectors.serving_decision(request.user, slug)).data)


class ModelChannelsView(APIView):
    required_roles = {"GET": ANALYST, "POST": ANALYST}

    @extend_schema(parameters=PAGE, responses=s.ChannelSerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        return paginate(
            request, self, selectors.channels_of(model_for(request.user, slug)), s.ChannelSerializer
        )

    @extend_schema(request=s.ChannelCreateSerializer, responses={201: s.ChannelSerializer})
    def post(self, request: Request, slug: str) -> Response:
        data = s.ChannelCreateSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        channel = channel_create(
            model=model_for(request.user, slug), actor=Actor.of(request.user), **data.validated_data
        )
        out = s.ChannelSerializer(channel).data
        if channel.kind == "webhook" and not data.validated_data.get("secret"):
            out["secret"] = channel.secret  # generated: shown once, here
        return Response(out, status=status.HTTP_201_CREATED)


class ChannelDetailView(APIView):
    required_roles = {"GET": ANALYST, "PATCH": ANALYST, "DELETE": ANALYST}

    @extend_schema(responses=s.ChannelSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.ChannelSerializer(selectors.channel_for(request.user, pk)).data)

    @extend_schema(request=s.ChannelUpdateSerializer, responses=s.ChannelSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        data = s.ChannelUpdateSerializer(data=body(request), partial=True)
        data.is_valid(raise_exception=True)
        channel = channel_update(
            channel=selectors.channel_for(request.user, pk),
            actor=Actor.of(request.user),
            **data.validated_data,
        )
        return Response(s.ChannelSerializer(channel).data)

    @extend_schema(responses=s.ChannelSerializer)
    def delete(self, request: Request, pk: int) -> Response:
        channel = channel_update(
            channel=selectors.channel_for(request.user, pk), actor=Actor.of(request.user), is_active=False
        )
        return Response(s.ChannelSerializer(channel).data)


class DeliveryListView(APIView):
    required_roles = {"GET": ANALYST}

    @extend_schema(
        parameters=[
            OpenApiParameter("model", str),
            OpenApiParameter("status", str),
            OpenApiParameter("event", int),
            *PAGE,
        ],
        responses=s.DeliverySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        deliveries = selectors.deliveries_list(request.user, **query(request, "model", "status", "event"))
        return paginate(request, self, deliveries, s.DeliverySerializer)
