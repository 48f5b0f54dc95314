"""Analytics: placeholder."""

import streamlit as st

st.title("Analytics")
