import TprofStore
