"""Rendering money and evidence for people: bills (text, CSV, XLSX), the monthly report
(HTML with inline SVG charts, XLSX). Every renderer takes the versioned JSON document of its
command and returns bytes or text; the same document gives the same bytes."""
