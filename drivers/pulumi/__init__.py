"""The optional Pulumi engine: a Pulumi program (program.py, run through __main__.py as
Pulumi.yaml's ``main``) that renders compiled stack specs as pulumi-openstack resources, and
engine.py, which runs it through Pulumi's Automation API when the Pulumi CLI is installed."""
