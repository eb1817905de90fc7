from django.urls import path

from . import catalogue

app_name = "catalogue"
urlpatterns = [
    path("", catalogue.programme_list, name="list"),
    path("<slug:slug>/", catalogue.programme_detail, name="programme"),
    path("<slug:slug>/kan-vi-soka/", catalogue.eligibility_check, name="eligibility"),
]
