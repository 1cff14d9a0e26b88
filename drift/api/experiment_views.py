"""v1 API for experiments: analysts define, start, stop and decide; everyone with a role reads;
a model's integration key reads the current allocation."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from drift.api import experiment_serializers as s
from drift.roles import ANALYST
from drift.selectors import model_for
from drift.selectors_experiments import (
    allocation_for,
    experiment_for,
    experiment_results,
    experiments_visible_to,
)
from drift.services import experiments as svc
from drift.services.experiment_definition import ExperimentSpec, spec_from
from governance.services.audit import Actor


class Pages(LimitOffsetPagination):
    max_limit = 1000


def _spec_fields(data: dict[str, Any]) -> dict[str, Any]:
    fields = {k: v for k, v in data.items() if k != "model"}
    if "challengers" in fields:
        fields["challengers"] = tuple(fields["challengers"])
    return fields


class ExperimentListView(APIView):
    integration_methods: set[str] = set()
    required_roles = {"POST": ANALYST}

    @extend_schema(
        parameters=[OpenApiParameter("model", str), OpenApiParameter("status", str)],
        responses=s.ExperimentOutSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        qs = experiments_visible_to(request.user, model=params.get("model"), status=params.get("status"))
        paginator = Pages()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(s.ExperimentOutSerializer(page, many=True).data)

    @extend_schema(request=s.ExperimentWriteSerializer, responses={201: s.ExperimentOutSerializer})
    def post(self, request: Request) -> Response:
        data = s.ExperimentWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        model = model_for(request.user, data.validated_data["model"])
        spec = ExperimentSpec(model=model, **_spec_fields(data.validated_data))
        experiment = svc.experiment_create(spec=spec, actor=Actor.of(request.user))
        return Response(s.ExperimentOutSerializer(experiment).data, status=status.HTTP_201_CREATED)


class ExperimentDetailView(APIView):
    integration_methods: set[str] = set()

    @extend_schema(responses=s.ExperimentOutSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.ExperimentOutSerializer(experiment_for(request.user, pk)).data)

    @extend_schema(request=s.ExperimentWriteSerializer, responses=s.ExperimentOutSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        experiment = experiment_for(request.user, pk)
        data = s.ExperimentWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        spec = spec_from(experiment, **_spec_fields(data.validated_data))
        experiment = svc.experiment_update(experiment=experiment, spec=spec, actor=Actor.of(request.user))
        return Response(s.ExperimentOutSerializer(experiment_for(request.user, experiment.pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        svc.experiment_delete(experiment=experiment_for(request.user, pk), actor=Actor.of(request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExperimentStartView(APIView):
    integration_methods: set[str] = set()
    required_roles = {"POST": ANALYST}

    @extend_schema(request=None, responses=s.ExperimentOutSerializer)
    def post(self, request: Request, pk: int) -> Response:
        experiment = svc.experiment_start(
            experiment=experiment_for(request.user, pk), actor=Actor.of(request.user)
        )
        return Response(s.ExperimentOutSerializer(experiment_for(request.user, experiment.pk)).data)


class ExperimentStopView(APIView):
    integration_methods: set[str] = set()
    required_roles = {"POST": ANALYST}

    @extend_schema(request=s.StopSerializer, responses=s.ExperimentOutSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = s.StopSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        experiment = experiment_for(request.user, pk)
        svc.experiment_stop(
            experiment=experiment, reason=data.validated_data["reason"], actor=Actor.of(request.user)
        )
        return Response(s.ExperimentOutSerializer(experiment_for(request.user, pk)).data)


class ExperimentDecisionView(APIView):
    integration_methods: set[str] = set()
    required_roles = {"POST": ANALYST}

    @extend_schema(request=s.DecisionSerializer, responses={201: s.DecisionOutSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = s.DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        experiment = experiment_for(request.user, pk)
        record = svc.experiment_decide(
            experiment=experiment, actor=Actor.of(request.user), **data.validated_data
        )
        return Response(s.DecisionOutSerializer(record).data, status=status.HTTP_201_CREATED)


class ExperimentResultsView(APIView):
    integration_methods: set[str] = set()

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        return Response(experiment_results(experiment_for(request.user, pk)))


class ModelAllocationView(APIView):
    """What the serving system routes by; readable with the model's own integration key."""

    integration_methods = {"GET"}

    @extend_schema(responses=s.AllocationSerializer)
    def get(self, request: Request, slug: str) -> Response:
        return Response(allocation_for(request.user, slug))
