"""Report form definitions shipped with the reports service, one JSON document per form version
(``<form_id>.v<version>.json``), loaded by ``services.reports.domain.forms``. A package so that the
JSON files travel with it (package-data ``*.json``)."""
