"""Pulumi.yaml's program: `pulumi preview` / `pulumi up` in a govcloud workspace (or with
`pulumi config set govcloud:workspace DIR`) render its compiled stacks/ as pulumi-openstack
resources. See program.py."""
import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from drivers.pulumi.program import main  # noqa: E402

main()
