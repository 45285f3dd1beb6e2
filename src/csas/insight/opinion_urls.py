from django.urls import URLPattern, URLResolver, path

from csas.insight import opinion_views

app_name = "opinion"

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "manage/insight/conversations/",
        opinion_views.conversation_list,
        name="conversations",
    ),
    path(
        "manage/insight/conversations/<int:pk>/",
        opinion_views.conversation_detail,
        name="conversation",
    ),
    path(
        "manage/insight/surveys/<int:pk>/priorities/",
        opinion_views.priorities,
        name="priorities",
    ),
]
