from services.plans.entrypoints.main import main

main()
