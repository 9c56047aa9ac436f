-- The lint warnings an import found in a tile's metadata (what Ops Manager tolerates and
-- Tileworks reads as Ops Manager reads it: quoted scalars indented less than their key, a
-- default naming no option, a selector input naming no option…), one line each, as a JSON
-- array of strings; shown by the import answer and the product's settings page. NULL: bundled
-- tiles (linted clean by their tests) and tiles imported before this column existed.
ALTER TABLE available_products ADD COLUMN lint_warnings TEXT;
