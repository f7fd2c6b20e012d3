from django.urls import path

from cshub.claims import views

app_name = "claims"

# Pages: cshub/claims/views.py (rules C1-C5).
urlpatterns = [
    path("", views.claim_list, name="list"),
    path("pended/", views.pended_queue, name="pended"),
    path("aging/", views.aging, name="aging"),
    path("totals/", views.totals, name="totals"),
    path("invoices/new/", views.invoice_new, name="invoice_new"),
    path("invoices/upload/", views.invoice_upload, name="invoice_upload"),
    path("invoices/template.csv", views.invoice_template, name="invoice_template"),
    path("paper/cms1500/", views.cms1500_entry, name="cms1500"),
    path("paper/invoice/", views.paper_invoice, name="paper_invoice"),
    path("files/", views.file_list, name="file_list"),
    path("files/upload/", views.file_upload, name="file_upload"),
    path("files/<uuid:uuid>/", views.file_detail, name="file_detail"),
    path("files/<uuid:uuid>/original/", views.file_original, name="file_original"),
    path("files/<uuid:uuid>/999/", views.file_999, name="file_999"),
    path("payments/", views.payment_list, name="payment_list"),
    path("payments/<uuid:uuid>/835/", views.payment_835, name="payment_835"),
    path("payments/runs/", views.run_list, name="run_list"),
    path("payments/runs/<uuid:uuid>/", views.run_detail, name="run_detail"),
    path("<uuid:uuid>/", views.claim_detail, name="detail"),
    path("<uuid:uuid>/lines/<int:number>/decide/", views.line_decide, name="line_decide"),
    path("<uuid:uuid>/readjudicate/", views.claim_readjudicate, name="readjudicate"),
    path("<uuid:uuid>/image/", views.claim_image, name="image"),
]
