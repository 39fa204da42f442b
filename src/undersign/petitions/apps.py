from django.apps import AppConfig


class PetitionsConfig(AppConfig):
    name = "undersign.petitions"
    label = "petitions"
