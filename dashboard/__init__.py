"""The Streamlit dashboard: `streamlit run dashboard/app.py` from the repository root."""
