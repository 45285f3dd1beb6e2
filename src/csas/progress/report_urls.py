from django.urls import path

from csas.progress import report_views

app_name = "reports"

urlpatterns = [
    path("", report_views.index, name="index"),
    path("<int:period_pk>/", report_views.quarterly, name="quarterly"),
    path("<int:period_pk>/report.pdf", report_views.quarterly_pdf, name="quarterly_pdf"),
    path("annual/<int:year>/", report_views.annual, name="annual"),
    path("annual/<int:year>/report.pdf", report_views.annual_pdf, name="annual_pdf"),
]
