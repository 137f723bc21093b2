"""Imported key material: GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial."""

__all__: list[str] = []
