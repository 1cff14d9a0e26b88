"""v1 API for runbooks: analysts write (each edit a new version), everyone with a role reads."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from drift.selectors import model_for
from governance import selectors_runbooks as selectors
from governance.api import runbook_serializers as s
from governance.api.common import PAGE, body, paginate
from governance.services.runbooks import runbook_create, runbook_retire, runbook_update


def _detail(request: Request, pk: int) -> Response:
    return Response(s.RunbookDetailSerializer(selectors.runbook_for(request.user, pk)).data)


class RunbookListView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("model", str, description="A model's slug: its runbooks and the shared ones."),
            OpenApiParameter("retired", bool, description="Include retired runbooks."),
            *PAGE,
        ],
        responses=s.RunbookSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        runbooks = selectors.runbooks_list(
            request.user,
            model=request.query_params.get("model") or None,
            include_retired=request.query_params.get("retired", "").lower() in {"1", "true", "yes"},
        )
        return paginate(request, self, runbooks, s.RunbookSerializer)

    @extend_schema(request=s.RunbookCreateSerializer, responses={201: s.RunbookDetailSerializer})
    def post(self, request: Request) -> Response:
        data = s.RunbookCreateSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        slug = v.pop("model", None)
        model = model_for(request.user, slug) if slug else None
        runbook = runbook_create(model=model, by=request.user, **v)
        response = _detail(request, runbook.pk)
        response.status_code = status.HTTP_201_CREATED
        return response


class RunbookDetailView(APIView):
    @extend_schema(responses=s.RunbookDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return _detail(request, pk)

    @extend_schema(request=s.RunbookUpdateSerializer, responses=s.RunbookDetailSerializer)
    def put(self, request: Request, pk: int) -> Response:
        data = s.RunbookUpdateSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        runbook_update(
            runbook=selectors.runbook_for(request.user, pk), by=request.user, **data.validated_data
        )
        return _detail(request, pk)

    @extend_schema(
        parameters=[OpenApiParameter("reason", str, description="Why it is retired.")],
        responses=s.RunbookDetailSerializer,
    )
    def delete(self, request: Request, pk: int) -> Response:
        reason = request.query_params.get("reason", "")
        runbook_retire(runbook=selectors.runbook_for(request.user, pk), by=request.user, reason=reason)
        return _detail(request, pk)


class RunbookVersionView(APIView):
    @extend_schema(responses=s.RunbookVersionSerializer)
    def get(self, request: Request, pk: int, number: int) -> Response:
        runbook = selectors.runbook_for(request.user, pk)
        return Response(s.RunbookVersionSerializer(selectors.runbook_version_for(runbook, number)).data)
