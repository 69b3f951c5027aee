"""docker-compose.yml and the Dockerfile, checked by schema and against the code."""
