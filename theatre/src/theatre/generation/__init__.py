"""Making projects and acts from theatre's templates: names, rendering, the project's record, three-way merges."""
