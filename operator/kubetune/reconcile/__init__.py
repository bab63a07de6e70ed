"""Thin kopf handlers: parse, plan (kubetune.planning), act (kubetune.k8s), write status."""
