from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "supportdesk.onboarding"
    label = "onboarding"
