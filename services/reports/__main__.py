from services.reports.entrypoints.main import main

main()
