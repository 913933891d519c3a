"""Where the actions service keeps its deployments' documents and its command statuses."""
