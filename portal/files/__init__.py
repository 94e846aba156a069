"""Files attached to work orders (photos, invoice PDFs): checked by content, stored under UPLOAD_DIR."""
