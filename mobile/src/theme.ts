import { StyleSheet } from 'react-native';

export const colors = {
  background: '#F7F8FA',
  card: '#FFFFFF',
  text: '#111827',
  muted: '#6B7280',
  accent: '#2563EB',
  danger: '#DC2626',
  ok: '#059669',
  warn: '#D97706',
  border: '#E5E7EB',
};

export const common = StyleSheet.create({
  screen: { flex: 1, backgroundColor: colors.background },
  card: {
    backgroundColor: colors.card,
    borderRadius: 10,
    borderWidth: 1,
    borderColor: colors.border,
    padding: 12,
    marginHorizontal: 12,
    marginVertical: 6,
  },
  title: { fontSize: 16, fontWeight: '600', color: colors.text },
  body: { fontSize: 14, color: colors.text },
  muted: { fontSize: 13, color: colors.muted },
  heading: { fontSize: 20, fontWeight: '700', color: colors.text, margin: 12 },
});
