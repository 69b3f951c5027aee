"""SQLModel tables and pydantic schemas, one module per domain.

Deliberately empty: workflows import `models.payloads` inside Temporal's sandbox, and importing this
package must not drag the ORM in with it. `models.metadata` registers every table.
"""
