"""Catalog's behaviour: plain functions over a unit of work and their collaborators.

No Flask, no pika, no environment here: views, consumers, commands and unit tests call these the
same way. A function raises :mod:`packyard.errors` and never commits; its caller does.
"""
