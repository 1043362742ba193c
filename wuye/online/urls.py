app_name = "online"
urlpatterns: list = []
