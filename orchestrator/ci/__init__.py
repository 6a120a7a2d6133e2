"""The GitOps pipeline's edges: git, the CI system's environment, the merge-request report and
the pipeline templates (templates/ci/)."""
