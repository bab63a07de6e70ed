"""The trial side: the metrics line protocol, the reporter sidecar and the tiny trainer
SDK. Standard library only, so it runs in any trial image.
"""
