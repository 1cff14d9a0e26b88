"""v1 API for postmortems and their action items. Analysts write; admins publish; everyone reads."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import selectors, selectors_postmortems
from governance.api import postmortem_serializers as s
from governance.api.common import PAGE, body, paginate, query
from governance.services.postmortems import (
    action_item_add,
    action_item_update,
    postmortem_create,
    postmortem_refresh,
    postmortem_transition,
    postmortem_update,
)


def _detail(request: Request, pk: int, code: int = status.HTTP_200_OK) -> Response:
    pm = selectors_postmortems.postmortem_for(request.user, pk)
    return Response(s.PostmortemDetailSerializer(pm).data, status=code)


class PostmortemListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("model", str), OpenApiParameter("status", str), *PAGE],
        responses=s.PostmortemSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        found = selectors_postmortems.postmortems_list(request.user, **query(request, "model", "status"))
        return paginate(request, self, found, s.PostmortemSerializer)

    @extend_schema(request=s.PostmortemCreateSerializer, responses={201: s.PostmortemDetailSerializer})
    def post(self, request: Request) -> Response:
        data = s.PostmortemCreateSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        incident = selectors.incident_for(request.user, data.validated_data["incident"])
        pm = postmortem_create(incident=incident, by=request.user, title=data.validated_data.get("title", ""))
        return _detail(request, pm.pk, status.HTTP_201_CREATED)


class PostmortemDetailView(APIView):
    @extend_schema(responses=s.PostmortemDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return _detail(request, pk)

    @extend_schema(request=s.PostmortemUpdateSerializer, responses=s.PostmortemDetailSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        data = s.PostmortemUpdateSerializer(data=body(request), partial=True)
        data.is_valid(raise_exception=True)
        pm = selectors_postmortems.postmortem_for(request.user, pk)
        postmortem_update(postmortem=pm, by=request.user, **data.validated_data)
        return _detail(request, pk)


class PostmortemTransitionView(APIView):
    # Analysts submit and send back; the service lets only admins publish.

    @extend_schema(request=s.PostmortemTransitionSerializer, responses=s.PostmortemDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = s.PostmortemTransitionSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        pm = selectors_postmortems.postmortem_for(request.user, pk)
        postmortem_transition(postmortem=pm, by=request.user, **data.validated_data)
        return _detail(request, pk)


class PostmortemRefreshView(APIView):
    @extend_schema(request=None, responses=s.PostmortemDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        postmortem_refresh(postmortem=selectors_postmortems.postmortem_for(request.user, pk), by=request.user)
        return _detail(request, pk)


class ActionItemListView(APIView):
    @extend_schema(request=s.ActionItemCreateSerializer, responses={201: s.ActionItemSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = s.ActionItemCreateSerializer(data=body(request))
        data.is_valid(raise_exception=True)
        pm = selectors_postmortems.postmortem_for(request.user, pk)
        item = action_item_add(postmortem=pm, by=request.user, **data.validated_data)
        fresh = selectors_postmortems.action_item_for(request.user, item.pk)
        return Response(s.ActionItemSerializer(fresh).data, status=status.HTTP_201_CREATED)


class ActionItemDetailView(APIView):
    @extend_schema(responses=s.ActionItemSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.ActionItemSerializer(selectors_postmortems.action_item_for(request.user, pk)).data)

    @extend_schema(request=s.ActionItemUpdateSerializer, responses=s.ActionItemSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        data = s.ActionItemUpdateSerializer(data=body(request), partial=True)
        data.is_valid(raise_exception=True)
        item = selectors_postmortems.action_item_for(request.user, pk)
        action_item_update(item=item, by=request.user, **data.validated_data)
        return Response(s.ActionItemSerializer(selectors_postmortems.action_item_for(request.user, pk)).data)
