from django.urls import path

from . import views

app_name = "capture_hooks"

urlpatterns = [path("<str:token>/", views.form_post, name="post")]
