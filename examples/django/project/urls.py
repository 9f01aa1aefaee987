from django.urls import path

from invitations import views

urlpatterns = [
    path("invitations/<int:pk>/", views.invitation, name="invitation"),
    path("invitations/<int:pk>/crash/", views.crash, name="crash"),
]
