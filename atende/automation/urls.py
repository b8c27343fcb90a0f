from django.urls import path

from atende.automation.views import agents, macros, rules

app_name = "automation"
urlpatterns = [
    path("", agents.index, name="index"),
    path("availability/", agents.availability_set, name="availability"),
    path("teams/", agents.team_assignment, name="teams"),
    path("teams/<int:team_id>/", agents.team_assignment_save, name="team_save"),
    path("macros/", macros.macro_list, name="macros"),
    path("macros/new/", macros.macro_edit, name="macro_new"),
    path("macros/<int:macro_id>/", macros.macro_edit, name="macro_edit"),
    path("macros/<int:macro_id>/delete/", macros.macro_remove, name="macro_delete"),
    path("macros/<int:macro_id>/move/", macros.macro_reorder, name="macro_move"),
    path("macros/<int:macro_id>/apply/<int:number>/", macros.macro_run, name="macro_apply"),
    path("canned/", macros.canned_list, name="canned"),
    path("canned/new/", macros.canned_edit, name="canned_new"),
    path("canned/search/", macros.canned_search, name="canned_search"),
    path("canned/<int:canned_id>/", macros.canned_edit, name="canned_edit"),
    path("canned/<int:canned_id>/delete/", macros.canned_remove, name="canned_delete"),
    path("<slug:kind>/", rules.rule_list, name="rules"),
    path("<slug:kind>/new/", rules.rule_edit, name="rule_new"),
    path("<slug:kind>/<int:rule_id>/", rules.rule_edit, name="rule_edit"),
    path("<slug:kind>/<int:rule_id>/delete/", rules.rule_remove, name="rule_delete"),
    path("<slug:kind>/<int:rule_id>/move/", rules.rule_reorder, name="rule_move"),
    path("<slug:kind>/<int:rule_id>/test/", rules.rule_preview, name="rule_preview"),
]
