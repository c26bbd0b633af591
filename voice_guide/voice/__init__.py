"""The person's own voice: enrolment, templates, and joining them to the recogniser's decision."""
