"""Vendor invoices for work orders: lines, tax and totals, owner approval, payment."""
