from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Ärendeflöde"

    def ready(self):
        # The domain's services take their steps through grants.process; this plugs GrantFlow in.
        from grants import process

        from .process import GrantFlowRunner

        process.register(GrantFlowRunner())
