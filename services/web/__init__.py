"""The workbench (工作台): server-rendered Chinese pages for cadres and officers under `/`, calling
the same service layer as the API (never HTTP to itself)."""
