from django.urls import path

from . import accounts, attachments, settings_views, views

app_name = "portal"
urlpatterns = [
    path("", views.index, name="index"),
    path("installningar/", settings_views.settings_edit, name="settings"),
    path("utlysningar/<int:call_pk>/ansok/", views.application_create, name="apply"),
    path("utlysningar/<int:call_pk>/ansok/fran-tidigare/", views.application_start_from, name="apply_from"),
    path("ansokningar/<int:pk>/", views.application_detail, name="application"),
    path("ansokningar/<int:pk>/andra/", views.application_edit, name="edit"),
    path("ansokningar/<int:pk>/steg/<slug:step>/", views.application_step, name="step"),
    path(
        "ansokningar/<int:pk>/bilagor/<int:document_pk>/ta-bort/",
        attachments.attachment_delete,
        name="attachment_delete",
    ),
    path("ansokningar/<int:pk>/skicka-in/", views.application_submit, name="submit"),
    path("ansokningar/<int:pk>/ata-tillbaka/", views.application_withdraw, name="withdraw"),
    path("ansokningar/<int:pk>/komplettering/", views.completion_answer, name="completion"),
    path("ansokningar/<int:pk>/aterrapport/", views.follow_up_report, name="follow_up"),
    path("ansokningar/<int:pk>/meddelande/", views.message_write, name="message"),
    # An informal group's application, as its sponsor association's confirmed members see it.
    path("medsokare/<int:pk>/", views.sponsor_application, name="sponsor_application"),
    path("medsokare/<int:pk>/bekrafta/", views.sponsor_confirm, name="sponsor_confirm"),
    path("medsokare/<int:pk>/avboj/", views.sponsor_decline, name="sponsor_decline"),
    # Min förening: the person's associations and groups, their profiles and people.
    path("forening/", accounts.organisation_list, name="organisations"),
    path("forening/ny/", accounts.association_create, name="association_create"),
    path("forening/ny-grupp/", accounts.group_create, name="group_create"),
    path("forening/ga-med/", accounts.organisation_join, name="organisation_join"),
    path("forening/<int:pk>/", accounts.organisation_detail, name="organisation"),
    path("forening/<int:pk>/uppgifter/", accounts.profile_update, name="organisation_profile"),
    path("forening/<int:pk>/styrelse/", accounts.board_update, name="organisation_board"),
    path("forening/<int:pk>/bankkonto/", accounts.bank_account_update, name="organisation_bank"),
    path("forening/<int:pk>/dokument/", accounts.file_add, name="organisation_file_add"),
    path("forening/<int:pk>/bjud-in/", accounts.invite, name="organisation_invite"),
    path("forening/inbjudningar/<int:pk>/dra-tillbaka/", accounts.invitation_withdraw, name="invitation_withdraw"),
    path("forening/dokument/<int:pk>/", accounts.file_download, name="organisation_file"),
    path("forening/personer/<int:pk>/bekrafta/", accounts.membership_confirm, name="membership_confirm"),
    path("forening/personer/<int:pk>/avboj/", accounts.membership_decline, name="membership_decline"),
    path("forening/personer/<int:pk>/roll/", accounts.membership_role, name="membership_role"),
]
