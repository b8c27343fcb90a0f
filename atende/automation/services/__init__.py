"""Automation writes: rule definitions, routing, assignment, triggers, time rules, macros and deliveries."""
