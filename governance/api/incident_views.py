"""v1 API for incidents and escalation paths."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from drift.roles import ADMIN, ANALYST, FRONTLINE, VIEWER
from drift.selectors import model_for
from governance import selectors
from governance.api import serializers as s
from governance.api.common import PAGE, body, paginate, query
from governance.selectors_runbooks import runbook_from_body
from governance.services.audit import Actor
from governance.services.incidents import (
    escalation_path_set,
    incident_open,
    incident_timeline_add,
    incident_transition,
    incident_update,
)
from monitoring_site.errors import ApplicationError


def _detail(request: Request, pk: int) -> Response:
    return Response(s.IncidentDetailSerializer(selectors.incident_for(request.user, pk)).data)


class IncidentListView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("model", str),
            OpenApiParameter("status", str),
            OpenApiParameter("severity", str),
            *PAGE,
        ],
        responses=s.IncidentSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        incidents = selectors.incidents_list(request.user, **query(request, "model", "status", "severity"))
        return paginate(request, self, incidents, s.IncidentSerializer)

    @extend_schema(request=s.IncidentCreateSerializer, responses={201: s.IncidentDetailSerializer})
    def post(self, request: Request) -> Response:
        data = s.IncidentCreateSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        model = model_for(request.user, v.pop("model"))
        event_ids = v.pop("events", [])
        v["runbook"] = runbook_from_body(request.user, v.get("runbook"))
        events = list(selectors.events_list(request.user).filter(model=model, pk__in=event_ids))
        if len(events) != len(set(event_ids)):
            raise ApplicationError(
                "Some events do not exist or belong to another model.",
                errors=[{"field": "events", "message": "unknown event of this model"}],
            )
        incident = incident_open(model=model, actor=Actor.of(request.user), events=events, **v)
        response = _detail(request, incident.pk)
        response.status_code = status.HTTP_201_CREATED
        return response


class IncidentDetailView(APIView):
    required_roles = {"GET": VIEWER, "PATCH": ANALYST}

    @extend_schema(responses=s.IncidentDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return _detail(request, pk)

    @extend_schema(request=s.IncidentUpdateSerializer, responses=s.IncidentDetailSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        data = s.IncidentUpdateSerializer(data=body(request), partial=True)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        if "runbook" in v:
            v["runbook"] = runbook_from_body(request.user, v["runbook"])
        incident_update(incident=selectors.incident_for(request.user, pk), by=request.user, **v)
        return _detail(request, pk)


class IncidentTransitionView(APIView):
    # Analysts move incidents on; the service lets only admins resolve (close) them.
    required_roles = {"POST": ANALYST}

    @extend_schema(request=s.IncidentTransitionSerializer, responses=s.IncidentDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = s.IncidentTransitionSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        incident = selectors.incident_for(request.user, pk)
        incident_transition(incident=incident, by=request.user, **data.validated_data)
        return _detail(request, pk)


class IncidentTimelineView(APIView):
    required_roles = {"POST": FRONTLINE}

    @extend_schema(request=s.TimelineNoteSerializer, responses={201: s.TimelineEntrySerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = s.TimelineNoteSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        entry = incident_timeline_add(
            incident=selectors.incident_for(request.user, pk), by=request.user, **data.validated_data
        )
        return Response(s.TimelineEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class EscalationPathView(APIView):
    required_roles = {"GET": VIEWER, "PUT": ADMIN}

    @extend_schema(responses=s.EscalationStepSerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        steps = selectors.escalation_path_of(model_for(request.user, slug))
        return Response(s.EscalationStepSerializer(steps, many=True).data)

    @extend_schema(request=s.EscalationPathSerializer, responses=s.EscalationStepSerializer(many=True))
    def put(self, request: Request, slug: str) -> Response:
        data = s.EscalationPathSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        steps = escalation_path_set(
            model=model_for(request.user, slug), steps=data.validated_data["steps"], by=request.user
        )
        return Response(s.EscalationStepSerializer(steps, many=True).data)
