from django.urls import path

from csas.progress import views

app_name = "progress"

urlpatterns = [
    path("", views.my_updates, name="my_updates"),
    path("actions/<int:action_pk>/periods/<int:period_pk>/", views.update_edit, name="update_edit"),
    path("updates/<int:pk>/decide/", views.update_decide, name="update_decide"),
    path("periods/<int:period_pk>/sheet.<str:fmt>", views.sheet_export, name="sheet_export"),
    path("periods/<int:period_pk>/sheet/import/", views.sheet_import, name="sheet_import"),
]
