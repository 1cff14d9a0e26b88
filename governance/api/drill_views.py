"""v1 API for drills: analysts start and end them; everyone with a role reads them and their reports."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from drift.selectors import model_for
from governance.api.common import PAGE, body, paginate, query
from governance.drill_data import KINDS
from governance.models import Drill
from governance.selectors_drills import drill_facts, drill_for, drills_list
from governance.services.drills import MAX_ROWS, drill_end, drill_start


class DrillSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug")
    version = serializers.CharField(source="version.version")
    started_by = serializers.CharField(source="started_by.username", default=None)
    ended_by = serializers.CharField(source="ended_by.username", default=None)
    run = serializers.IntegerField(source="run_id", allow_null=True)

    class Meta:
        model = Drill
        fields = [
            "id",
            "model",
            "version",
            "scenario",
            "magnitude",
            "rows",
            "injected",
            "status",
            "started_by",
            "started_at",
            "window_start",
            "window_end",
            "run",
            "gate_mode",
            "ended_by",
            "ended_at",
        ]


class DrillDetailSerializer(DrillSerializer):
    facts = serializers.SerializerMethodField(help_text="Detection and response so far (live until it ends).")

    class Meta(DrillSerializer.Meta):
        fields = [*DrillSerializer.Meta.fields, "actions", "note", "facts", "report"]

    def get_facts(self, obj: Drill) -> dict[str, Any]:
        return obj.report or drill_facts(obj)


class DrillStartSerializer(serializers.Serializer):
    scenario = serializers.ChoiceField(choices=KINDS)
    magnitude = serializers.FloatField(required=False, allow_null=True, help_text="Default: the scenario's.")
    rows = serializers.IntegerField(required=False, min_value=50, max_value=MAX_ROWS)
    seed = serializers.IntegerField(required=False, min_value=0, max_value=2**31 - 1)


class DrillEndSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


def _detail(request: Request, pk: int, code: int = status.HTTP_200_OK) -> Response:
    return Response(DrillDetailSerializer(drill_for(request.user, pk)).data, status=code)


class ModelDrillsView(APIView):
    @extend_schema(parameters=[OpenApiParameter("status", str), *PAGE], responses=DrillSerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        model_for(request.user, slug)
        found = drills_list(request.user, model=slug, status=request.query_params.get("status") or None)
        return paginate(request, self, found, DrillSerializer)

    @extend_schema(request=DrillStartSerializer, responses={201: DrillDetailSerializer})
    def post(self, request: Request, slug: str) -> Response:
        data = DrillStartSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        v = {k: val for k, val in data.validated_data.items() if val is not None}
        drill = drill_start(model=model_for(request.user, slug), by=request.user, **v)
        return _detail(request, drill.pk, status.HTTP_201_CREATED)


class DrillListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("model", str), OpenApiParameter("status", str), *PAGE],
        responses=DrillSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        return paginate(
            request, self, drills_list(request.user, **query(request, "model", "status")), DrillSerializer
        )


class DrillDetailView(APIView):
    @extend_schema(responses=DrillDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return _detail(request, pk)


class DrillEndView(APIView):
    @extend_schema(request=DrillEndSerializer, responses=DrillDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = DrillEndSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        drill_end(drill=drill_for(request.user, pk), by=request.user, **data.validated_data)
        return _detail(request, pk)
